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


EXACT_MAX_SIZE = 100
"""Up to this many observations in the smaller sample the count form's p-value is exact (``_permutation_pvalue``:
0.3 ms a call at 2 observations, 0.6 ms at 100, over 50 buckets; the asymptotic formula takes 25 µs). Above it the
asymptotic p-value is the larger of the two on buckets (their ties make it conservative): it can miss a little
drift, never invent it."""


def ks_from_counts(reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike) -> KSResult:
    """KS test from two sets of counts over the same, ordered buckets.

    With whole counts and at most ``EXACT_MAX_SIZE`` observations in the smaller sample, the p-value is exact
    (``_permutation_pvalue``): the asymptotic one is too small at a few observations a window, and flagged two
    windows of 5 from one distribution at p < 0.05 in about 8% of runs. Above that it is the Kolmogorov limit
    distribution at the effective size en = n*m/(n+m) with Stephens' correction, sqrt(en) + 0.12 + 0.11/sqrt(en):
    within a few percent of scipy's exact ``kstwo`` and about ten thousand times faster at such sizes.
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
    whole = np.array_equal(ref, np.round(ref)) and np.array_equal(cur, np.round(cur))
    if whole and min(n, m) <= EXACT_MAX_SIZE:
        return KSResult(statistic=statistic, pvalue=_permutation_pvalue(ref.astype(np.int64), cur.astype(np.int64)))
    root_n = np.sqrt(n * m / (n + m))
    pvalue = float(np.clip(special.kolmogorov((root_n + 0.12 + 0.11 / root_n) * statistic), 0.0, 1.0))
    return KSResult(statistic=statistic, pvalue=pvalue)


def _permutation_pvalue(reference: npt.NDArray[np.int64], current: npt.NDArray[np.int64]) -> float:
    """P(D >= the observed D) over every split of the pooled bucket counts into samples of these two sizes.

    Under "one distribution" every split is equally likely, so this is exact for the bucketed statistic, the ties
    that bucketing makes included. A dynamic programme over the buckets on the smaller sample's running count k,
    O(buckets * k^2): each bucket's share of it weighs binom(pooled, q) * p^q * (1-p)^(pooled-q) at p = k / total,
    a factor common to every split (so the ratio of splits inside the observed gap to all splits is the one wanted)
    that keeps every term in floating-point range.
    """
    pooled = reference + current
    small = current if current.sum() <= reference.sum() else reference
    k, total = int(small.sum()), int(pooled.sum())
    # |F_small - F_other| at an edge is |S * total - C * k| / (k * (total - k)): integers, so ties compare exactly
    observed = np.max(np.abs(np.cumsum(small) * total - np.cumsum(pooled) * k))
    if observed == 0:
        return 1.0
    states = np.arange(k + 1)
    cumulative = np.cumsum(pooled)
    outside = np.abs(states[np.newaxis, :] * total - cumulative[:, np.newaxis] * k) >= observed
    # binomial pmf of q draws per bucket, all buckets at once (scipy's binom.pmf costs ~40 µs a call)
    q, size = states[np.newaxis, :], pooled[:, np.newaxis]
    log_weights = (
        special.gammaln(size + 1.0) - special.gammaln(q + 1.0) - special.gammaln(np.maximum(size - q, 0) + 1.0)
    )
    log_weights += q * np.log(k / total) + (size - q) * np.log1p(-k / total)
    weights = np.where(q <= size, np.exp(log_weights), 0.0)
    inside = np.zeros(k + 1)
    inside[0] = 1.0
    every = inside.copy()
    # an empty bucket moves no count, and its edge's gaps are the previous edge's: nothing to do there
    for bucket in np.flatnonzero(pooled):
        draws = weights[bucket, : min(pooled[bucket], k) + 1]
        inside = np.convolve(inside, draws)[: k + 1]
        every = np.convolve(every, draws)[: k + 1]
        inside[outside[bucket]] = 0.0
        scale = every.max()
        inside, every = inside / scale, every / scale
    return float(np.clip(1.0 - inside[k] / every[k], 0.0, 1.0))
