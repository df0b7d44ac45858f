import numpy as np
import pytest

from streamsense.models.drift.psi import (
    PSI_ALERT,
    PSI_WARN,
    bin_counts,
    classify_psi,
    expected_psi_without_drift,
    psi_from_counts,
    psi_from_samples,
    psi_level,
    quantile_edges,
)


def test_identical_samples_give_psi_near_zero() -> None:
    rng = np.random.default_rng(0)
    assert psi_from_samples(rng.normal(size=5000), rng.normal(size=5000)) < 0.02


def test_shifted_normal_gives_psi_above_alert() -> None:
    rng = np.random.default_rng(1)
    value = psi_from_samples(rng.normal(size=5000), rng.normal(loc=1.0, size=5000))
    assert value > PSI_ALERT
    assert classify_psi(value) == "alert"


def test_psi_from_identical_counts_is_exactly_zero() -> None:
    assert psi_from_counts([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0)


def test_empty_bin_is_floored_by_epsilon_not_infinite() -> None:
    value = psi_from_counts([50, 50, 0], [40, 40, 20])
    assert np.isfinite(value) and value > PSI_ALERT


def test_psi_rejects_mismatched_or_empty_histograms() -> None:
    with pytest.raises(ValueError):
        psi_from_counts([1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        psi_from_counts([0, 0], [1, 1])


def test_classify_psi_uses_warn_and_alert_thresholds() -> None:
    assert classify_psi(0.0) == "ok"
    assert classify_psi(PSI_WARN) == "warn"
    assert classify_psi(0.2) == "warn"
    assert classify_psi(PSI_ALERT) == "alert"


def test_quantile_edges_put_equal_reference_mass_in_each_bin() -> None:
    reference = np.arange(1000, dtype=float)
    counts = bin_counts(reference, quantile_edges(reference, n_bins=10))
    assert counts.sum() == 1000
    assert counts.min() >= 99 and counts.max() <= 101


def test_a_constant_feature_keeps_its_value_in_a_bin_of_its_own_so_a_move_away_from_it_shows() -> None:
    edges = quantile_edges(np.ones(100), n_bins=10)
    assert edges.tolist() == [1.0, float(np.nextafter(1.0, 2.0))]
    assert psi_from_samples(np.ones(100), np.ones(50)) == pytest.approx(0.0)
    assert psi_from_samples(np.zeros(100), np.full(50, 1e6)) >= PSI_ALERT


def test_a_flag_whose_share_of_ones_moves_drifts() -> None:
    reference, current = np.r_[np.zeros(1900), np.ones(100)], np.r_[np.zeros(800), np.ones(1200)]
    assert psi_from_samples(reference, current) >= PSI_ALERT
    assert psi_from_samples(reference, reference[::-1]) == pytest.approx(0.0)


def test_bins_are_left_closed_like_elasticsearch_buckets() -> None:
    assert bin_counts([0.0, 0.5, 0.99, 1.0], [0.5, 1.0]).tolist() == [1, 2, 1]


def test_expected_psi_without_drift_matches_simulated_noise_floor() -> None:
    rng = np.random.default_rng(5)
    simulated = np.mean([psi_from_samples(rng.normal(size=300), rng.normal(size=300)) for _ in range(200)])
    assert simulated == pytest.approx(expected_psi_without_drift(10, 300, 300), rel=0.15)


def test_at_a_hundred_decisions_a_window_psi_noise_is_not_drift_and_a_one_sd_shift_still_alerts() -> None:
    rng = np.random.default_rng(0)

    def levels(shift: float) -> list[str]:
        out = []
        for _ in range(200):
            reference, current = rng.normal(size=100), rng.normal(shift, size=100)
            edges = quantile_edges(reference)
            counts = bin_counts(reference, edges), bin_counts(current, edges)
            out.append(psi_level(psi_from_counts(*counts), *counts))
        return out

    assert expected_psi_without_drift(10, 100, 100) > PSI_WARN  # the thresholds alone fire on noise here
    assert sum(level != "ok" for level in levels(0.0)) / 200 <= 0.05
    assert sum(level == "alert" for level in levels(1.0)) / 200 >= 0.95
