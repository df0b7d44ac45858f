import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from streamsense.models.drift.adversarial import AdversarialResult
from streamsense.models.drift.aggregates import (
    KS_PERCENTS,
    PSI_PERCENTS,
    adversarial_drift,
    auc_from_class_histograms,
    categorical_drift,
    coarsen,
    inner_edges,
    numeric_drift,
    performance_drift,
    ranges,
)
from streamsense.models.drift.psi import bin_counts, psi_from_samples, quantile_edges
from streamsense.models.drift.report import presence_drift
from streamsense.models.drift.run import PerformancePoint
from streamsense.streams.drift_query import AUC_PERCENTS


def test_ranges_are_left_closed_buckets_matching_bin_counts() -> None:
    assert ranges([1.0, 2.0]) == [{"to": 1.0}, {"from": 1.0, "to": 2.0}, {"from": 2.0}]
    assert ranges([]) == [{}]


def test_inner_edges_drop_missing_percentiles_and_give_a_repeated_one_its_own_bucket() -> None:
    assert inner_edges([None, 1.0, 1.0, 3.0, float("nan")]) == [1.0, float(np.nextafter(1.0, 2.0)), 3.0]
    assert inner_edges([None, None]) == []


def test_a_mostly_zero_count_that_becomes_often_nonzero_drifts_in_psi_and_ks_from_bucket_counts() -> None:
    """99% zeros in the reference: its percentiles are all 0, and the edge 0 alone put every value in one bucket."""
    ref = np.r_[np.zeros(990), np.arange(1, 11)]
    cur = np.r_[np.zeros(600), np.arange(1, 401) % 7 + 1]
    psi_edges = inner_edges(np.percentile(ref, PSI_PERCENTS).tolist())
    ks_edges = inner_edges(np.percentile(ref, KS_PERCENTS).tolist())
    psi, ks = numeric_drift(
        "n",
        bin_counts(ref, psi_edges),
        bin_counts(cur, psi_edges),
        bin_counts(ref, ks_edges),
        bin_counts(cur, ks_edges),
    )
    assert (psi.level, ks.level) == ("alert", "alert")


def test_counts_over_reference_deciles_give_the_raw_sample_psi() -> None:
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(size=3000), rng.normal(0.5, size=3000)
    edges = quantile_edges(ref)
    rows = numeric_drift(
        "x", bin_counts(ref, edges), bin_counts(cur, edges), bin_counts(ref, edges), bin_counts(cur, edges)
    )
    assert rows[0].statistic == "psi" and rows[0].value == pytest.approx(psi_from_samples(ref, cur))
    assert rows[0].level == "alert" and rows[0].threshold == 0.25
    assert rows[1].statistic == "ks_pvalue" and rows[1].level == "alert"


def test_categorical_drift_on_terms_with_an_other_bucket() -> None:
    same = categorical_drift("country", {"DE": 50, "US": 50, "__other__": 5}, {"DE": 49, "US": 51, "__other__": 5})
    moved = categorical_drift("country", {"DE": 90, "US": 10}, {"DE": 10, "US": 90})
    assert same.level == "ok" and moved.level == "alert" and moved.statistic == "js_distance"


def test_auc_from_class_histograms_equals_sklearn_on_binned_scores() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    scores = np.clip(rng.normal(0.4 + 0.2 * y, 0.15), 0, 0.999)
    bins = np.floor(scores * 20).astype(int)
    pos, neg = np.bincount(bins[y == 1], minlength=20), np.bincount(bins[y == 0], minlength=20)
    assert auc_from_class_histograms(pos, neg) == pytest.approx(roc_auc_score(y, bins))
    assert auc_from_class_histograms(pos, np.zeros(20)) is None


def _point(
    auc: float | None, accuracy: float | None = None, n: int = 20_000, positives: int = 2_000
) -> PerformancePoint:
    return PerformancePoint(n=n, positives=positives, auc=auc, accuracy=accuracy)


def test_performance_drift_levels_and_missing_windows() -> None:
    assert performance_drift("auc", _point(0.9), _point(0.8)).level == "alert"
    assert performance_drift("accuracy", _point(None, 0.9), _point(None, 0.88)).level == "warn"
    assert performance_drift("auc", _point(0.8), _point(0.85)).level == "ok"
    assert performance_drift("auc", None, _point(0.8)) is None
    assert performance_drift("auc", _point(None), _point(0.8)) is None


def test_a_drop_within_the_noise_of_a_few_labelled_frauds_is_not_an_alert_and_a_real_one_over_many_is() -> None:
    """Over ten frauds a window's AUC has a standard error of about 0.05, so a drop of 0.07 is within the noise."""
    noisy = performance_drift("auc", _point(0.95, n=1_500, positives=10), _point(0.88, n=1_500, positives=10))
    assert noisy is not None and noisy.value == pytest.approx(0.07) and noisy.level == "ok"
    real = performance_drift("auc", _point(0.95, n=1_500, positives=300), _point(0.88, n=1_500, positives=300))
    assert real is not None and real.level == "alert"


def test_auc_over_percentile_buckets_stays_exact_when_scores_are_recalibrated_and_fixed_bins_do_not() -> None:
    """A retraining that squares the scores keeps their ranking, so their AUC; 20 fixed-width bins read it lower."""
    rng = np.random.default_rng(0)
    negatives, positives = rng.beta(1, 30, 20_000), rng.beta(2, 4, 200)
    exact = roc_auc_score(np.r_[np.zeros(20_000), np.ones(200)], np.r_[negatives, positives])
    for scores_neg, scores_pos in ((negatives, positives), (negatives**2, positives**2)):
        fixed = np.linspace(0.05, 0.95, 19)
        edges = inner_edges(np.percentile(np.r_[scores_neg, scores_pos], AUC_PERCENTS).tolist())
        by_percentile = auc_from_class_histograms(bin_counts(scores_pos, edges), bin_counts(scores_neg, edges))
        by_fixed_bins = auc_from_class_histograms(bin_counts(scores_pos, fixed), bin_counts(scores_neg, fixed))
        assert by_percentile == pytest.approx(exact, abs=0.005)
    assert exact - by_fixed_bins > 0.1  # the squared scores, on the fixed bins


def test_coarsen_and_adversarial_row() -> None:
    assert coarsen([1, 2, 3, 4, 5], 2) == [3, 7, 5]
    row = adversarial_drift(AdversarialResult(auc=0.75, fold_aucs=[0.75]))
    assert row.feature == "multivariate" and row.level == "alert" and row.threshold == 0.7


def test_a_feature_that_stops_arriving_or_starts_is_drift_and_one_always_there_or_never_there_gets_no_row() -> None:
    stopped = presence_drift("distance_km", (600, 600), (0, 600))
    started = presence_drift("new_signal", (0, 600), (600, 600))
    assert stopped is not None and started is not None
    assert (stopped.statistic, stopped.level, stopped.value) == ("missing_js", "alert", 1.0)
    assert started.level == "alert"
    assert presence_drift("amount", (600, 600), (500, 500)) is None
    assert presence_drift("other_models_feature", (0, 600), (0, 500)) is None
    steady = presence_drift("optional", (300, 600), (252, 500))
    assert steady is not None and steady.level == "ok"


def test_a_drop_read_from_one_to_three_labels_is_not_an_alert_where_chance_explains_it() -> None:
    """The standard errors were 0 at an accuracy or AUC of 0 or 1, so one wrong label was a significant drop."""
    one_wrong = performance_drift("accuracy", _point(None, 0.9, n=1_000), _point(None, 0.0, n=1))
    assert one_wrong is not None and one_wrong.value == pytest.approx(0.9) and one_wrong.level == "ok"
    three_right = performance_drift("accuracy", _point(None, 1.0, n=3), _point(None, 0.95, n=1_000))
    assert three_right is not None and three_right.level == "ok"
    two_ranked_right = performance_drift("auc", _point(1.0, n=2, positives=1), _point(0.9, n=10_000, positives=100))
    assert two_ranked_right is not None and two_ranked_right.level == "ok"
    many_wrong = performance_drift("accuracy", _point(None, 0.9, n=1_000), _point(None, 0.2, n=20))
    assert many_wrong is not None and many_wrong.level == "alert"
