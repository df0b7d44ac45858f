"""Prediction drift: has the distribution of a model's scores moved, whatever the labels say.

Scores live in [0, 1], so the bins are fixed (not reference quantiles): the same edges serve a stored
baseline, fresh raw scores and an Elasticsearch ``histogram`` aggregation with ``interval`` 1/n_bins.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamsense.models.drift.ks import ks_from_counts, ks_from_samples
from streamsense.models.drift.psi import DriftLevel, bin_counts, psi_from_counts, psi_level


@dataclass(frozen=True)
class ScoreDrift:
    """PSI and KS between reference and current score distributions, with the PSI level."""

    psi: float
    ks_statistic: float
    ks_pvalue: float
    level: DriftLevel


def score_edges(n_bins: int = 10) -> npt.NDArray[np.float64]:
    """Inner edges of ``n_bins`` equal-width bins over [0, 1]."""
    if n_bins < 2:
        raise ValueError("n_bins must be at least 2")
    return np.linspace(0.0, 1.0, n_bins + 1)[1:-1]


def score_histogram(scores: npt.ArrayLike, n_bins: int = 10) -> npt.NDArray[np.int64]:
    """Counts of scores in ``n_bins`` equal-width bins over [0, 1] (1.0 lands in the last bin)."""
    return bin_counts(scores, score_edges(n_bins))


def score_drift_from_counts(reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike) -> ScoreDrift:
    """Score drift from two score histograms over the same bins."""
    psi = psi_from_counts(reference_counts, current_counts)
    ks = ks_from_counts(reference_counts, current_counts)
    level = psi_level(psi, reference_counts, current_counts)
    return ScoreDrift(psi=psi, ks_statistic=ks.statistic, ks_pvalue=ks.pvalue, level=level)


def score_drift(reference_scores: npt.ArrayLike, current_scores: npt.ArrayLike, n_bins: int = 10) -> ScoreDrift:
    """Score drift from raw scores: PSI on fixed bins, KS on the exact values."""
    reference_counts = score_histogram(reference_scores, n_bins)
    current_counts = score_histogram(current_scores, n_bins)
    psi = psi_from_counts(reference_counts, current_counts)
    ks = ks_from_samples(reference_scores, current_scores)
    level = psi_level(psi, reference_counts, current_counts)
    return ScoreDrift(psi=psi, ks_statistic=ks.statistic, ks_pvalue=ks.pvalue, level=level)
