"""Fraud ranking metrics, including the Handbook's card precision@k per day."""

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def card_precision_at_k(day: np.ndarray, card: np.ndarray, score: np.ndarray, y: np.ndarray, k: int = 100) -> float:
    """Per day: score each card by its highest-scored transaction, take the ``k`` top cards, count the share that
    had a fraud that day; then average over days (Handbook, "card precision top-k")."""
    values = []
    for d in np.unique(day):
        mask = day == d
        cards, inverse = np.unique(card[mask], return_inverse=True)
        best = np.full(len(cards), -np.inf)
        np.maximum.at(best, inverse, score[mask])
        compromised = np.zeros(len(cards), dtype=bool)
        np.logical_or.at(compromised, inverse, y[mask].astype(bool))
        top = np.argsort(-best, kind="stable")[:k]
        values.append(float(compromised[top].sum()) / k)
    return float(np.mean(values)) if values else float("nan")


def ranking_metrics(
    day: np.ndarray, card: np.ndarray, score: np.ndarray, y: np.ndarray, k: int = 100
) -> dict[str, float]:
    """ROC AUC, average precision and card precision@k of one score on one period."""
    return {
        "roc_auc": round(float(roc_auc_score(y, score)), 4),
        "average_precision": round(float(average_precision_score(y, score)), 4),
        f"card_precision_at_{k}": round(card_precision_at_k(day, card, score, y, k), 4),
    }


def threshold_metrics(score: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision, recall and alert rate of the decisions ``score >= threshold``."""
    flagged = score >= threshold
    tp = float((flagged & (y == 1)).sum())
    return {
        "threshold": round(float(threshold), 6),
        "precision": round(tp / flagged.sum(), 4) if flagged.any() else 0.0,
        "recall": round(tp / (y == 1).sum(), 4) if (y == 1).any() else 0.0,
        "alert_rate": round(float(flagged.mean()), 6),
    }
