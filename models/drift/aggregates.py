"""Drift statistics from what Elasticsearch aggregations return: percentiles, bucket counts, term counts.

The drift job never pulls a window's rows: it asks for the reference percentiles of each feature, then
for both windows' counts in the ranges between them, and hands those numbers to the functions here.
Range buckets are left-closed like ``psi.bin_counts``, so these results match the raw-sample ones up to
the percentile approximation (TDigest) on Elasticsearch's side.
"""

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from scipy import stats

from streamsense.models.drift.adversarial import (
    ADVERSARIAL_AUC_ALERT,
    ADVERSARIAL_AUC_WARN,
    AdversarialResult,
    classify_adversarial_auc,
)
from streamsense.models.drift.jensen_shannon import js_distance, js_pvalue
from streamsense.models.drift.ks import ks_from_counts
from streamsense.models.drift.psi import DriftLevel, edges_from_quantiles, psi_from_counts, psi_pvalue
from streamsense.models.drift.report import FeatureDrift, crossed_threshold, gated_row
from streamsense.models.drift.run import PerformancePoint

PSI_PERCENTS = [10.0 * i for i in range(1, 10)]
"""Deciles: PSI's ten bins of about equal reference mass."""
KS_PERCENTS = [2.0 * i for i in range(1, 50)]
"""Fifty bins for KS: the count-based statistic can only see CDF gaps at bucket edges, so more edges see more."""
AUC_DROP_WARN = 0.02
AUC_DROP_ALERT = 0.05
DROP_Z = 2.33
"""Standard errors a drop of AUC must exceed to count (one-sided 1%)."""
DROP_P = 0.01
"""The one-sided p-value under which a drop of accuracy counts (Fisher's exact test)."""


def inner_edges(percentiles: Sequence[float | None]) -> list[float]:
    """Increasing edges from an Elasticsearch ``percentiles`` result (None where the field had no values), a value
    that several percentiles share in a bin of its own (``psi.edges_from_quantiles``)."""
    return edges_from_quantiles([np.nan if p is None else p for p in percentiles]).tolist()


def ranges(edges: Sequence[float]) -> list[dict[str, float]]:
    """The ``range`` aggregation's ranges for inner edges e1 < ... < ek: (-inf, e1), [e1, e2), ..., [ek, inf)."""
    if not edges:
        return [{}]
    bounds = [None, *edges, None]
    out = []
    for lo, hi in itertools.pairwise(bounds):
        bucket: dict[str, float] = {}
        if lo is not None:
            bucket["from"] = lo
        if hi is not None:
            bucket["to"] = hi
        out.append(bucket)
    return out


def coarsen(counts: Sequence[int], factor: int) -> list[int]:
    """Sum each run of ``factor`` adjacent buckets (fine fixed-width score bins into PSI's coarser ones)."""
    if factor < 1:
        raise ValueError("factor must be at least 1")
    return [int(sum(counts[i : i + factor])) for i in range(0, len(counts), factor)]


def numeric_drift(
    feature: str,
    psi_reference: npt.ArrayLike,
    psi_current: npt.ArrayLike,
    ks_reference: npt.ArrayLike,
    ks_current: npt.ArrayLike,
) -> list[FeatureDrift]:
    """PSI on the decile buckets and KS on the finer buckets of one numeric feature."""
    psi = psi_from_counts(psi_reference, psi_current)
    pvalue = ks_from_counts(ks_reference, ks_current).pvalue
    return [
        gated_row(feature, "psi", psi, psi_pvalue(psi_reference, psi_current)),
        gated_row(feature, "ks_pvalue", pvalue, pvalue),
    ]


def categorical_drift(feature: str, reference: Mapping[str, float], current: Mapping[str, float]) -> FeatureDrift:
    """Jensen–Shannon distance between two ``terms`` results (an ``__other__`` key may hold the long tail)."""
    return gated_row(feature, "js_distance", js_distance(reference, current), js_pvalue(reference, current))


def auc_from_class_histograms(positive: npt.ArrayLike, negative: npt.ArrayLike) -> float | None:
    """ROC AUC from score histograms of positives and negatives over the same increasing bins.

    Pairs in the same bin count one half (ties), which is the Mann–Whitney AUC of the binned scores.
    None when a class is absent.
    """
    pos = np.asarray(positive, dtype=np.float64)
    neg = np.asarray(negative, dtype=np.float64)
    if pos.shape != neg.shape or pos.ndim != 1:
        raise ValueError("class histograms must be 1-D and of equal length")
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos <= 0 or n_neg <= 0:
        return None
    negatives_below = np.concatenate([[0.0], np.cumsum(neg)[:-1]])
    return float(np.sum(pos * (negatives_below + 0.5 * neg)) / (n_pos * n_neg))


def standard_error(point: PerformancePoint) -> float | None:
    """The standard error of a window's ``auc`` (Hanley and McNeil, 1982, from its positive and negative counts);
    None where the window lacks it. The AUC is read at least 1/(2 * the smaller class count) from 0 and 1 here: at 1
    (and at 0) the formula gives 0, and two labelled frauds ranked right would make any later drop significant."""
    positives, negatives = point.positives, point.n - point.positives
    if point.auc is None or min(positives, negatives) < 1:
        return None
    edge = 0.5 / min(positives, negatives)
    value = min(max(point.auc, edge), 1 - edge)
    q1, q2 = value / (2 - value), 2 * value**2 / (1 + value)
    variance = value * (1 - value) + (positives - 1) * (q1 - value**2) + (negatives - 1) * (q2 - value**2)
    return float(np.sqrt(max(variance, 0.0) / max(positives * negatives, 1)))


def _accuracy_drop_p(reference: PerformancePoint, current: PerformancePoint) -> float:
    """One-sided p-value of the current window's accuracy being lower by chance (Fisher's exact test on the right
    and wrong counts): exact at any size, where the binomial standard error is 0 at an accuracy of 0 or 1, and one
    wrong label in a window of one read as a significant drop."""
    table = [[round(w.accuracy * w.n), w.n - round(w.accuracy * w.n)] for w in (reference, current)]
    return float(stats.fisher_exact(table, alternative="greater").pvalue)


def performance_drift(
    metric: str, reference: PerformancePoint | None, current: PerformancePoint | None
) -> FeatureDrift | None:
    """Drop of a metric (``auc``, ``accuracy``) from the reference window to the current one (positive = worse).

    None unless both windows have the metric; the warn/alert drops (0.02/0.05) are on the metric's own scale, and
    count only where chance is unlikely to explain them: for AUC beyond ``DROP_Z`` standard errors of the difference
    (over a few labelled frauds a window's AUC moves by more than the alert drop on noise alone), for accuracy at a
    one-sided p-value under ``DROP_P``.
    """
    if reference is None or current is None:
        return None
    ref_value, cur_value = getattr(reference, metric), getattr(current, metric)
    if ref_value is None or cur_value is None:
        return None
    drop = ref_value - cur_value
    if metric == "accuracy":
        significant = drop > 0 and _accuracy_drop_p(reference, current) < DROP_P
    else:
        ref_se, cur_se = standard_error(reference), standard_error(current)
        if ref_se is None or cur_se is None:
            return None
        significant = drop > DROP_Z * float(np.hypot(ref_se, cur_se))
    level: DriftLevel = "ok"
    if significant:
        level = "alert" if drop >= AUC_DROP_ALERT else "warn" if drop >= AUC_DROP_WARN else "ok"
    return FeatureDrift(
        feature="performance",
        statistic=f"{metric}_drop",
        value=drop,
        level=level,
        threshold=crossed_threshold(level, AUC_DROP_WARN, AUC_DROP_ALERT),
    )


def adversarial_drift(result: AdversarialResult) -> FeatureDrift:
    """The multivariate row of a report: the adversarial classifier's AUC over all sampled features."""
    level = classify_adversarial_auc(result.auc)
    return FeatureDrift(
        feature="multivariate",
        statistic="adversarial_auc",
        value=result.auc,
        level=level,
        threshold=crossed_threshold(level, ADVERSARIAL_AUC_WARN, ADVERSARIAL_AUC_ALERT),
    )
