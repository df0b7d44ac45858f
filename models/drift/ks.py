"""Two-sample Kolmogorov–Smirnov test from raw samples or from histogram bucket counts.

The count form exists because Elasticsearch histogram aggregations return buckets, not rows. On
buckets the statistic is the largest CDF gap at the bucket edges: never larger than the exact one,
so the test is conservative (it can miss drift inside a bucket, it never invents drift).
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from streamsense.models.drift.psi import DriftLevel

KS_PVALUE_WARN = 0.05
KS_PVALUE_ALERT = 0.01


def classify_ks(pvalue: float) -> DriftLevel:
    """Level from the p-value: small means the samples are unlikely to share one distribution."""
    if pvalue < KS_PVALUE_ALERT:
        return "alert"
    if pvalue < KS_PVALUE_WARN:
        return "warn"
    return "ok"


@dataclass(frozen=True)
class KSResult:
    """KS statistic (max CDF gap, 0..1) and the p-value of 'both come from one distribution'."""

    statistic: float
    pvalue: float


def ks_from_samples(reference: npt.ArrayLike, current: npt.ArrayLike) -> KSResult:
    """Exact-or-asymptotic two-sample KS test on raw values (scipy picks the method by size)."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if ref.size == 0 or cur.size == 0:
        raise ValueError("both samples must be non-empty")
    result = stats.ks_2samp(ref, cur)
    return KSResult(statistic=float(result.statistic), pvalue=float(result.pvalue))


def ks_from_counts(reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike) -> KSResult:
    """KS test from two sets of counts over the same, ordered buckets.

    The p-value is the Kolmogorov limit distribution at the effective size en = n*m/(n+m) with
    Stephens' small-sample correction, sqrt(en) + 0.12 + 0.11/sqrt(en): within a few percent of scipy's
    exact ``kstwo`` and about ten thousand times faster at the sizes Elasticsearch windows have.
    """
    ref = np.asarray(reference_counts, dtype=np.float64)
    cur = np.asarray(current_counts, dtype=np.float64)
    if ref.ndim != 1 or ref.shape != cur.shape:
        raise ValueError("bucket counts must be 1-D and of equal length")
    if np.any(ref < 0) or np.any(cur < 0):
        raise ValueError("bucket counts must be non-negative")
    n, m = ref.sum(), cur.sum()
    if n <= 0 or m <= 0:
        raise ValueError("both histograms need at least one observation")
    statistic = float(np.max(np.abs(np.cumsum(ref) / n - np.cumsum(cur) / m)))
    root_n = np.sqrt(n * m / (n + m))
    pvalue = float(np.clip(special.kolmogorov((root_n + 0.12 + 0.11 / root_n) * statistic), 0.0, 1.0))
    return KSResult(statistic=statistic, pvalue=pvalue)
