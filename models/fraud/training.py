"""Fitting an artifact from labelled feature rows: XGBoost (optionally GAN-augmented), blend and threshold.

``retrain`` is what the streaming side calls periodically with the feature rows it kept at scoring time and the labels
that arrived since; it splits them by event time (the latest share is validation), fits, and publishes the next
version for ``FraudModelRegistry`` to pick up. The experiment uses the same functions, so both behave alike.
"""

import math
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.metrics import average_precision_score, roc_auc_score

from streamsense.models.fraud.artifact import (
    GAN_MODES,
    SAMPLE_FILE,
    FraudArtifact,
    TrainingChoices,
    distance_grid,
    feature_sample,
    save,
)
from streamsense.models.fraud.blend import Blend, fit_blend, threshold_for_alert_rate, threshold_for_precision
from streamsense.models.fraud.features import COLD
from streamsense.models.fraud.gan import TabularGAN
from streamsense.models.fraud.metrics import threshold_metrics
from streamsense.models.fraud.xgb_model import XGBParams, margin, train_booster


@dataclass
class BoosterChoice:
    """The booster to use, both candidates, and the GAN comparison on validation."""

    booster: xgb.Booster
    plain: xgb.Booster
    augmented: xgb.Booster | None
    report: dict[str, Any]


def _ap(y: np.ndarray, score: np.ndarray) -> float:
    return round(float(average_precision_score(y, score)), 4)


def gan_augment(X: np.ndarray, y: np.ndarray, ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training rows plus ``ratio`` x (number of frauds) synthetic fraud rows from a GAN fitted on the frauds."""
    frauds = X[y == 1]
    synthetic = TabularGAN(seed=seed).fit(frauds).sample(math.ceil(ratio * len(frauds)))
    return np.vstack([X, synthetic]), np.concatenate([y, np.ones(len(synthetic), dtype=y.dtype)])


def fit_booster(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    names: list[str],
    params: XGBParams | None = None,
    gan: str = "auto",
    gan_ratio: float = 1.0,
) -> BoosterChoice:
    """Train plain XGBoost and, unless ``gan == "off"``, a GAN-augmented one; ``auto`` keeps the GAN only if it
    raises average precision on the validation rows."""
    if gan not in GAN_MODES:
        raise ValueError(f"gan must be one of {GAN_MODES}")
    p = params or XGBParams()
    plain = train_booster(X_train, y_train, names, p)
    report: dict[str, Any] = {"mode": gan, "validation_ap_without": _ap(y_val, margin(plain, X_val))}
    if gan == "off":
        return BoosterChoice(plain, plain, None, report | {"enabled": False})
    X_aug, y_aug = gan_augment(X_train, y_train, gan_ratio, p.seed)
    augmented = train_booster(X_aug, y_aug, names, p)
    report["synthetic_rows"] = int(len(X_aug) - len(X_train))
    report["validation_ap_with"] = _ap(y_val, margin(augmented, X_val))
    report["helps_on_validation"] = report["validation_ap_with"] > report["validation_ap_without"]
    report["enabled"] = gan == "on" or report["helps_on_validation"]
    return BoosterChoice(augmented if report["enabled"] else plain, plain, augmented, report)


def fit_decision(
    online_logit: np.ndarray,
    xgb_margin: np.ndarray,
    y: np.ndarray,
    choices: TrainingChoices,
) -> tuple[Blend, float]:
    """Calibrated blend and its threshold, both on validation rows: the threshold flags the choices'
    ``target_alert_rate`` of transactions when set, else it is the lowest one reaching their ``target_precision``."""
    blend = fit_blend(online_logit, xgb_margin, y)
    scores = blend.score_many(online_logit, xgb_margin)
    if choices.target_alert_rate is not None:
        return blend, threshold_for_alert_rate(scores, choices.target_alert_rate)
    return blend, threshold_for_precision(scores, y, choices.target_precision)


def _rows_to_arrays(
    rows: Iterable[Mapping[str, Any]], names: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels, online logits and event times, ordered by event time; ``rows`` is read once, as it comes
    (a worker's are decoded from disk as this reads them), into arrays of plain floats."""
    features, labels, logits, times = array("d"), array("d"), array("d"), array("d")
    for row in rows:
        values = row["features"]
        features.extend(float(values[n]) for n in names)
        labels.append(bool(row["is_fraud"]))
        logits.append(float(row["online_logit"]))
        times.append(float(row["event_time"]))
    t = np.frombuffer(times)
    order = np.argsort(t, kind="stable")
    X = np.frombuffer(features).reshape(len(t), len(names))[order]
    return X, np.frombuffer(labels)[order].astype(int), np.frombuffer(logits)[order], t[order]


def retrain(
    rows: Iterable[Mapping[str, Any]],
    root: Path,
    names: list[str],
    feature_config: dict[str, Any],
    choices: TrainingChoices | None = None,
    validation_fraction: float = 0.25,
    params: XGBParams | None = None,
    min_frauds: int = 20,
    as_new: Callable[[np.ndarray, bool], np.ndarray] | None = None,
    extra_files: dict[str, bytes] | None = None,
) -> FraudArtifact | None:
    """Fit on labelled rows ``{"features": {name: value}, "is_fraud": bool, "event_time": epoch_s,
    "online_logit": float}`` (kept from scoring time) and publish the next version under ``root``.

    The latest ``validation_fraction`` of rows by event time is validation (blend, threshold, GAN choice). Returns
    ``None`` without publishing when either part has fewer than ``min_frauds`` frauds. ``choices`` (the current
    version's, so that a retraining keeps the operator's threshold rule, GAN mode and cold share) are kept in the new
    version. With ``as_new`` (``FraudFeaturePipeline.as_new``) the booster also learns cold copies of a seeded
    ``choices.cold_share`` of the training rows, as the experiment's booster did, so that a retrained version still
    knows new cards. The version keeps ``extra_files`` and a sample of its training rows (``SAMPLE_FILE``).
    """
    choices, params = choices or TrainingChoices(), params or XGBParams()
    X, y, logit, _ = _rows_to_arrays(rows, names)
    cut = int(len(y) * (1 - validation_fraction))
    if y[:cut].sum() < min_frauds or y[cut:].sum() < min_frauds:
        return None
    X_fit, y_fit = X[:cut], y[:cut]
    if as_new is not None:
        pick = np.random.default_rng(params.seed).uniform(size=cut) < choices.cold_share
        X_fit = np.vstack([X_fit, *(as_new(X_fit[pick], terminal_too) for terminal_too in COLD.values())])
        y_fit = np.concatenate([y_fit, *[y_fit[pick]] * len(COLD)])
    choice = fit_booster(X_fit, y_fit, X[cut:], y[cut:], names, params, choices.gan)
    val_margin = margin(choice.booster, X[cut:])
    blend, threshold = fit_decision(logit[cut:], val_margin, y[cut:], choices)
    combined = blend.score_many(logit[cut:], val_margin)
    metrics = {
        "validation": {
            "rows": int(len(y) - cut),
            "roc_auc": round(float(roc_auc_score(y[cut:], combined)), 4),
            "average_precision": _ap(y[cut:], combined),
            "frauds": int(y[cut:].sum()),
            "at_threshold": threshold_metrics(combined, y[cut:], threshold),
        },
        "train_rows": cut,
        "train_cold_copies": len(y_fit) - cut,
        "gan_augmentation": choice.report,
    }
    artifact = FraudArtifact(
        choice.booster,
        names,
        feature_config,
        blend,
        threshold,
        metrics,
        choices,
        distances=distance_grid(X[:cut], names),
    )
    save(artifact, root, (extra_files or {}) | {SAMPLE_FILE: feature_sample(X[:cut], params.seed)})
    return artifact
