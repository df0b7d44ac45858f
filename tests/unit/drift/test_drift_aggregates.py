import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from streamsense.models.drift.adversarial import AdversarialResult
from streamsense.models.drift.aggregates import (
    adversarial_drift,
    auc_from_class_histograms,
    categorical_drift,
    coarsen,
    inner_edges,
    ks_fractions,
    numeric_drift,
    performance_drift,
    ranges,
)
from streamsense.models.drift.psi import bin_counts, psi_from_samples, quantile_edges


def test_ranges_are_left_closed_buckets_matching_bin_counts() -> None:
    assert ranges([1.0, 2.0]) == [{"to": 1.0}, {"from": 1.0, "to": 2.0}, {"from": 2.0}]
    assert ranges([]) == [{}]


def test_inner_edges_drop_missing_and_repeated_percentiles() -> None:
    assert inner_edges([None, 1.0, 1.0, 3.0, float("nan")]) == [1.0, 3.0]


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


def test_an_elasticsearch_ks_pvalue_replaces_the_local_one() -> None:
    rows = numeric_drift("x", [10, 10], [10, 10], [10, 10], [10, 10], ks_pvalue=0.001)
    assert rows[1].value == 0.001 and rows[1].level == "alert"


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


def test_performance_drift_levels_and_missing_windows() -> None:
    assert performance_drift("auc", 0.9, 0.8).level == "alert"
    assert performance_drift("accuracy", 0.9, 0.88).level == "warn"
    assert performance_drift("auc", 0.8, 0.85).level == "ok"
    assert performance_drift("auc", None, 0.8) is None


def test_coarsen_fractions_and_adversarial_row() -> None:
    assert coarsen([1, 2, 3, 4, 5], 2) == [3, 7, 5]
    fractions = ks_fractions([0, 5, 5])
    assert sum(fractions) == pytest.approx(1.0) and min(fractions) > 0
    row = adversarial_drift(AdversarialResult(auc=0.75, fold_aucs=[0.75]))
    assert row.feature == "multivariate" and row.level == "alert" and row.threshold == 0.7
