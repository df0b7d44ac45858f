import pytest

from streamsense.models.drift.jensen_shannon import classify_js, js_distance, js_pvalue
from streamsense.models.drift.psi import psi_pvalue


def test_identical_distributions_have_zero_distance() -> None:
    assert js_distance({"a": 10, "b": 30}, {"a": 1, "b": 3}) == pytest.approx(0.0, abs=1e-9)


def test_disjoint_distributions_have_distance_one() -> None:
    assert js_distance({"a": 5, "b": 5}, {"c": 3, "d": 1}) == pytest.approx(1.0)


def test_distance_uses_union_of_categories_and_is_symmetric() -> None:
    p, q = {"a": 8, "b": 2}, {"a": 5, "b": 3, "c": 2}
    assert 0.0 < js_distance(p, q) < 1.0
    assert js_distance(p, q) == pytest.approx(js_distance(q, p))


def test_classify_js_levels() -> None:
    assert classify_js(0.0) == "ok"
    assert classify_js(0.15) == "warn"
    assert classify_js(1.0) == "alert"


def test_empty_distribution_is_rejected() -> None:
    with pytest.raises(ValueError):
        js_distance({}, {"a": 1})


def test_a_flag_read_as_two_categories_is_tested_as_the_same_counts_in_two_bins() -> None:
    """One test for both: a flag's drift must not be harder to see as a category than as a number."""
    reference, current = {"yes": 40, "no": 60}, {"yes": 58, "no": 42}
    assert js_pvalue(reference, current) == pytest.approx(psi_pvalue([40, 60], [58, 42]))
    assert js_pvalue(reference, current) < 0.05


def test_js_pvalue_is_one_where_nothing_can_differ() -> None:
    assert js_pvalue({"a": 5}, {"a": 9}) == 1.0
    assert js_pvalue({}, {"a": 9}) == 1.0
    assert js_pvalue({"a": 5, "b": 0}, {"a": 9, "c": 0}) == 1.0
