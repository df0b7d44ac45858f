"""Performance drift: accuracy and ROC AUC per time bucket, from labelled decisions once labels arrive."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score


@dataclass(frozen=True)
class BucketPerformance:
    """Metrics of one time bucket; ``auc`` is None when the bucket holds a single class."""

    start: float
    n: int
    positives: int
    accuracy: float
    auc: float | None


def performance_by_bucket(
    times: npt.ArrayLike,
    y_true: npt.ArrayLike,
    scores: npt.ArrayLike,
    bucket_seconds: float,
    threshold: float = 0.5,
) -> list[BucketPerformance]:
    """Group (time, label, score) rows into buckets of ``bucket_seconds`` and score each, oldest first.

    Buckets are aligned to multiples of ``bucket_seconds`` (like a date histogram), and empty ones are skipped.
    """
    if bucket_seconds <= 0:
        raise ValueError("bucket_seconds must be positive")
    t = np.asarray(times, dtype=np.float64)
    y = np.asarray(y_true).astype(np.int64)
    s = np.asarray(scores, dtype=np.float64)
    if not (t.shape == y.shape == s.shape) or t.ndim != 1:
        raise ValueError("times, y_true and scores must be 1-D and of equal length")
    keys = np.floor(t / bucket_seconds)
    result = []
    for key in np.unique(keys):
        mask = keys == key
        yb, sb = y[mask], s[mask]
        auc = float(roc_auc_score(yb, sb)) if np.unique(yb).size == 2 else None
        result.append(
            BucketPerformance(
                start=float(key * bucket_seconds),
                n=int(mask.sum()),
                positives=int(yb.sum()),
                accuracy=float(np.mean((sb >= threshold).astype(np.int64) == yb)),
                auc=auc,
            )
        )
    return result


def degraded_buckets(
    buckets: list[BucketPerformance], baseline_auc: float, max_drop: float = 0.05, min_rows: int = 50
) -> list[BucketPerformance]:
    """Buckets with enough rows whose AUC fell more than ``max_drop`` below the baseline (validation) AUC."""
    return [b for b in buckets if b.n >= min_rows and b.auc is not None and b.auc < baseline_auc - max_drop]
