import itertools

import numpy as np
import pytest
from scipy import stats

from streamsense.models.drift.ks import classify_ks, ks_from_counts, ks_from_samples
from streamsense.models.drift.psi import bin_counts

EDGES = np.linspace(-4.0, 4.0, 41)[1:-1]


def test_identical_distributions_give_high_pvalue() -> None:
    rng = np.random.default_rng(0)
    result = ks_from_samples(rng.normal(size=2000), rng.normal(size=2000))
    assert result.pvalue > 0.1
    assert classify_ks(result.pvalue) == "ok"


def test_shifted_normal_gives_small_pvalue() -> None:
    rng = np.random.default_rng(1)
    result = ks_from_samples(rng.normal(size=2000), rng.normal(loc=0.5, size=2000))
    assert result.pvalue < 1e-6
    assert classify_ks(result.pvalue) == "alert"


def test_counts_version_matches_sample_version_on_fine_buckets() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=3000), rng.normal(loc=0.3, size=3000)
    exact = ks_from_samples(a, b)
    binned = ks_from_counts(bin_counts(a, EDGES), bin_counts(b, EDGES))
    assert binned.statistic <= exact.statistic + 1e-12
    assert binned.statistic == pytest.approx(exact.statistic, abs=0.02)
    assert binned.pvalue < 1e-6


def test_counts_version_gives_high_pvalue_for_identical_distributions() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=3000), rng.normal(size=3000)
    assert ks_from_counts(bin_counts(a, EDGES), bin_counts(b, EDGES)).pvalue > 0.1


def test_counts_pvalue_agrees_with_scipy_asymptotic_method() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.integers(0, 10, size=500), rng.integers(0, 10, size=800)
    edges = np.arange(1, 10) - 0.5
    binned = ks_from_counts(bin_counts(a, edges), bin_counts(b, edges))
    reference = stats.ks_2samp(a, b, method="asymp")
    assert binned.statistic == pytest.approx(reference.statistic)
    assert binned.pvalue == pytest.approx(reference.pvalue, rel=0.05, abs=1e-3)


def test_counts_version_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        ks_from_counts([1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        ks_from_counts([0, 0], [1, 1])


def test_counts_pvalue_is_scipys_exact_one_when_every_bucket_holds_one_value() -> None:
    rng = np.random.default_rng(5)
    for n, m, shift in [(3, 2, 0.0), (5, 4, 1.0), (40, 3, 0.5), (12, 30, 2.0)]:
        a, b = rng.normal(size=n), rng.normal(loc=shift, size=m)
        pooled = np.sort(np.concatenate([a, b]))
        from_a = np.isin(pooled, a).astype(int)
        binned = ks_from_counts(from_a, 1 - from_a)
        assert binned.pvalue == pytest.approx(stats.ks_2samp(a, b, method="exact").pvalue, abs=1e-12)


def test_counts_pvalue_with_tied_buckets_is_the_share_of_all_splits_at_least_as_far_apart() -> None:
    reference, current = [3, 1, 0, 2], [0, 0, 2, 1]
    pooled = np.repeat(np.arange(4), np.add(reference, current))
    observed = ks_from_counts(reference, current)
    splits = list(itertools.combinations(range(pooled.size), sum(current)))
    at_least = 0
    for chosen in splits:
        cur = np.bincount(pooled[list(chosen)], minlength=4)
        at_least += ks_from_counts(np.add(reference, current) - cur, cur).statistic >= observed.statistic - 1e-12
    assert observed.pvalue == pytest.approx(at_least / len(splits))


def test_counts_pvalue_of_tiny_windows_from_one_distribution_is_under_alpha_as_often_as_alpha_at_most() -> None:
    """2 to 5 observations a window against 2, as many and 1000, over 40 buckets: the asymptotic p-value, which
    served every size until stop 38, was under 0.05 more often than that at such sizes."""
    rng = np.random.default_rng(6)
    runs, under_05, under_01 = 0, 0, 0
    for m in range(2, 6):
        for n in sorted({2, m, 1000}):
            pvalues = np.array(
                [
                    ks_from_counts(bin_counts(rng.normal(size=n), EDGES), bin_counts(rng.normal(size=m), EDGES)).pvalue
                    for _ in range(400)
                ]
            )
            rate = np.mean(pvalues < 0.05)
            assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / pvalues.size), (n, m, rate)
            runs += pvalues.size
            under_05 += int(np.sum(pvalues < 0.05))
            under_01 += int(np.sum(pvalues < 0.01))
    assert under_05 / runs <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / runs)
    assert under_01 / runs <= 0.01 + 3 * np.sqrt(0.01 * 0.99 / runs)


def test_counts_pvalue_of_a_tiny_window_far_outside_the_reference_is_still_small() -> None:
    reference = bin_counts(np.random.default_rng(7).normal(size=2000), EDGES)
    assert ks_from_counts(reference, bin_counts([3.5, 3.6, 3.8, 3.9], EDGES)).pvalue < 1e-6
