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
