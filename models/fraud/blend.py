"""Combined fraud score: a logistic blend of [online logit, XGBoost margin] fitted on a validation period.

Fitting a logistic regression on the two scores is Platt scaling of their best linear mix, so the blend is calibrated
on the validation period (the under-sampled online model's inflated probabilities are corrected here). The decision
threshold is then chosen on the same validation period, from a target precision or a target alert rate, never on test.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression


@dataclass(frozen=True)
class Blend:
    """``p = sigmoid(w_online * online_logit + w_xgb * xgb_margin + intercept)``."""

    w_online: float
    w_xgb: float
    intercept: float

    def score(self, online_logit: float, xgb_margin: float) -> float:
        z = self.w_online * online_logit + self.w_xgb * xgb_margin + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def score_many(self, online_logit: np.ndarray, xgb_margin: np.ndarray) -> np.ndarray:
        z = self.w_online * online_logit + self.w_xgb * xgb_margin + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def fit_blend(online_logit: np.ndarray, xgb_margin: np.ndarray, y: np.ndarray) -> Blend:
    """Fit the blend (and with it the calibration) on validation rows."""
    lr = LogisticRegression(C=1.0, max_iter=1000)
    lr.fit(np.column_stack([online_logit, xgb_margin]), y.astype(int))
    return Blend(float(lr.coef_[0, 0]), float(lr.coef_[0, 1]), float(lr.intercept_[0]))


def threshold_for_precision(scores: np.ndarray, y: np.ndarray, target_precision: float) -> float:
    """Lowest threshold whose validation precision reaches the target (most recall at that precision)."""
    order = np.argsort(-scores, kind="stable")
    sorted_scores, hits = scores[order], y[order].astype(float)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    ok = np.flatnonzero(precision >= target_precision)
    if len(ok) == 0:
        return float(sorted_scores[0]) + 1e-12
    return float(sorted_scores[ok[-1]])


def threshold_for_alert_rate(scores: np.ndarray, alert_rate: float) -> float:
    """Threshold that flags about ``alert_rate`` of validation transactions."""
    return float(np.quantile(scores, 1 - alert_rate))


def expected_calibration_error(p: np.ndarray, y: np.ndarray, n_bins: int = 10) -> float:
    """Mean |predicted - observed| over equal-count bins of predictions, weighted by bin size."""
    order = np.argsort(p, kind="stable")
    error = 0.0
    for chunk in np.array_split(order, n_bins):
        if len(chunk):
            error += len(chunk) * abs(float(p[chunk].mean()) - float(y[chunk].mean()))
    return error / len(p)
