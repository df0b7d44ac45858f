import numpy as np
import pytest

from streamsense.models.drift.performance import degraded_buckets, performance_by_bucket
from streamsense.models.drift.scores import score_drift, score_drift_from_counts, score_histogram


def test_score_histogram_uses_fixed_unit_bins_and_keeps_one_in_last_bin() -> None:
    counts = score_histogram([0.0, 0.05, 0.1, 0.95, 1.0], n_bins=10)
    assert counts.tolist() == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]


def test_stable_scores_show_no_prediction_drift() -> None:
    rng = np.random.default_rng(0)
    drift = score_drift(rng.beta(2, 5, size=3000), rng.beta(2, 5, size=3000))
    assert drift.level == "ok"
    assert drift.ks_pvalue > 0.01


def test_shifted_scores_show_prediction_drift_from_raw_and_counts() -> None:
    rng = np.random.default_rng(1)
    ref, cur = rng.beta(2, 5, size=3000), rng.beta(5, 2, size=3000)
    assert score_drift(ref, cur).level == "alert"
    from_counts = score_drift_from_counts(score_histogram(ref), score_histogram(cur))
    assert from_counts.level == "alert"
    assert from_counts.ks_pvalue < 1e-6


def test_performance_by_bucket_groups_rows_by_aligned_time() -> None:
    times = [0, 10, 59, 60, 61, 130]
    y = [0, 1, 1, 0, 1, 1]
    s = [0.1, 0.9, 0.4, 0.2, 0.8, 0.7]
    buckets = performance_by_bucket(times, y, s, bucket_seconds=60)
    assert [b.start for b in buckets] == [0.0, 60.0, 120.0]
    assert [b.n for b in buckets] == [3, 2, 1]
    assert buckets[0].accuracy == pytest.approx(2 / 3)
    assert buckets[0].auc == pytest.approx(1.0)
    assert buckets[2].auc is None


def test_degraded_buckets_flags_auc_drop_below_baseline() -> None:
    rng = np.random.default_rng(2)
    n = 2000
    times = np.arange(n, dtype=float)
    y = rng.integers(0, 2, size=n)
    good = np.clip(y * 0.6 + rng.normal(0.2, 0.2, size=n), 0, 1)
    noise = rng.random(n)
    scores = np.where(times < 1000, good, noise)
    buckets = performance_by_bucket(times, y, scores, bucket_seconds=500)
    flagged = degraded_buckets(buckets, baseline_auc=buckets[0].auc or 0.0, max_drop=0.1)
    assert [b.start for b in flagged] == [1000.0, 1500.0]
