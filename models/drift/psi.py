"""Population Stability Index: how far a feature's current distribution moved from its reference.

PSI = sum((c - r) * ln(c / r)) over bins of proportions. Empty bins would make it infinite, so every
proportion is floored at ``eps`` before the sum; the 0.1 / 0.25 thresholds are the usual industry rule.
Sampling noise alone gives PSI about (bins - 1) * (1/n_ref + 1/n_cur), so small windows cross 0.1 with
no drift at all: ``expected_psi_without_drift`` says how small is too small.
"""

from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

PSI_WARN = 0.1
PSI_ALERT = 0.25
PSI_EPS = 1e-4

DriftLevel = Literal["ok", "warn", "alert"]


def classify_psi(value: float) -> DriftLevel:
    """Map a PSI value to the level an alert rule or a dashboard shows."""
    if value >= PSI_ALERT:
        return "alert"
    if value >= PSI_WARN:
        return "warn"
    return "ok"


PSI_PVALUE = 0.01
"""A PSI level counts only where a PSI as large is this unlikely between two samples of one distribution."""


def psi_pvalue(reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike) -> float:
    """How likely bin counts as different as these are between two samples of one distribution: the chi-square test
    of homogeneity on the bins that hold a value, without Yates' correction, which would make a two-bin feature (a
    flag) harder to flag than one of many bins. PSI measures how far; this says whether it is beyond chance. (PSI
    itself is a poor test statistic in small windows: an empty bin, floored at ``PSI_EPS``, alone adds about 0.7.)"""
    ref, cur = np.asarray(reference_counts, dtype=np.float64), np.asarray(current_counts, dtype=np.float64)
    if ref.sum() <= 0 or cur.sum() <= 0:
        raise ValueError("both windows need a positive count")
    held = (ref + cur) > 0
    if held.sum() < 2:
        return 1.0
    return float(stats.chi2_contingency(np.vstack([ref[held], cur[held]]), correction=False)[1])


def psi_level(psi: float, reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike) -> DriftLevel:
    """``classify_psi``, where the counts differ beyond chance (``PSI_PVALUE``): at 100 decisions a window, two
    samples of one distribution give PSI 0.18 on average over ten bins, past the warn level."""
    if psi_pvalue(reference_counts, current_counts) >= PSI_PVALUE:
        return "ok"
    return classify_psi(psi)


def expected_psi_without_drift(n_bins: int, n_reference: int, n_current: int) -> float:
    """Mean PSI of two samples from one distribution (chi-square approximation): the noise floor of a window size."""
    if n_reference <= 0 or n_current <= 0:
        raise ValueError("sample sizes must be positive")
    return (n_bins - 1) * (1.0 / n_reference + 1.0 / n_current)


def _proportions(counts: npt.ArrayLike, eps: float) -> npt.NDArray[np.float64]:
    arr = np.asarray(counts, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError("bin counts must be a non-empty 1-D sequence")
    if np.any(arr < 0):
        raise ValueError("bin counts must be non-negative")
    total = arr.sum()
    if total <= 0:
        raise ValueError("bin counts must not all be zero")
    return np.clip(arr / total, eps, None)


def psi_from_counts(reference: npt.ArrayLike, current: npt.ArrayLike, eps: float = PSI_EPS) -> float:
    """PSI from two histograms over the same bins (counts or proportions; each is normalised)."""
    ref = _proportions(reference, eps)
    cur = _proportions(current, eps)
    if ref.shape != cur.shape:
        raise ValueError(f"histograms differ in length: {ref.size} vs {cur.size}")
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def edges_from_quantiles(quantiles: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Increasing inner edges from quantiles of a reference; a value that several quantiles share (a flag, a count
    that is mostly zero, a constant) gets a bin of its own, ``[v, next float after v)``.

    With left-closed bins, the edge ``v`` alone would put ``v`` and everything above it in one bin: a flag at 5% ones
    in the reference and 60% in the current window, or a constant 0 against 1e6, read PSI 0.
    """
    values = np.asarray(quantiles, dtype=np.float64)
    values = values[np.isfinite(values)]
    unique, counts = np.unique(values, return_counts=True)
    return np.unique(np.concatenate([unique, np.nextafter(unique[counts > 1], np.inf)]))


def quantile_edges(reference: npt.ArrayLike, n_bins: int = 10) -> npt.NDArray[np.float64]:
    """Inner bin edges at the reference's quantiles, so each reference bin holds about the same mass
    (``edges_from_quantiles``); values outside the reference range fall into the first or last bin."""
    if n_bins < 2:
        raise ValueError("n_bins must be at least 2")
    ref = np.asarray(reference, dtype=np.float64)
    if ref.size == 0:
        raise ValueError("reference sample is empty")
    return edges_from_quantiles(np.quantile(ref, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))


def bin_counts(sample: npt.ArrayLike, inner_edges: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Counts per bin for inner edges e_1 < ... < e_k: bins (-inf, e_1), [e_1, e_2), ..., [e_k, inf).

    Left-closed like Elasticsearch histogram buckets, so counts from either source line up.
    """
    values = np.asarray(sample, dtype=np.float64)
    edges = np.asarray(inner_edges, dtype=np.float64)
    idx = np.searchsorted(edges, values, side="right")
    return np.bincount(idx, minlength=edges.size + 1).astype(np.int64)


def psi_from_samples(reference: npt.ArrayLike, current: npt.ArrayLike, n_bins: int = 10, eps: float = PSI_EPS) -> float:
    """PSI of two raw samples with quantile bins taken from the reference."""
    edges = quantile_edges(reference, n_bins)
    return psi_from_counts(bin_counts(reference, edges), bin_counts(current, edges), eps)
