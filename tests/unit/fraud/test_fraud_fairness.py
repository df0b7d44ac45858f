import pytest

from streamsense.models.fraud.fairness import fairness_from_counts, fairness_report


def test_fairness_metrics_match_a_hand_computed_example() -> None:
    # group a: TP, FN, FP, TN, TN -> alert 2/5, TPR 1/2, FPR 1/3, precision 1/2
    # group b: TP, TP, TN, TN     -> alert 2/4, TPR 1,   FPR 0,   precision 1
    rows = [
        ("a", True, True),
        ("a", True, False),
        ("a", False, True),
        ("a", False, False),
        ("a", False, False),
        ("b", True, True),
        ("b", True, True),
        ("b", False, False),
        ("b", False, False),
    ]
    report = fairness_report(rows)
    a, b = report["groups"]["a"], report["groups"]["b"]
    assert (a["n"], a["positives"]) == (5, 2)
    assert a["alert_rate"] == pytest.approx(0.4) and b["alert_rate"] == pytest.approx(0.5)
    assert a["tpr"] == pytest.approx(0.5) and b["tpr"] == pytest.approx(1.0)
    assert a["fpr"] == pytest.approx(1 / 3) and b["fpr"] == pytest.approx(0.0)
    assert a["precision"] == pytest.approx(0.5) and b["precision"] == pytest.approx(1.0)
    assert report["demographic_parity_difference"] == pytest.approx(0.1)
    assert report["equal_opportunity_difference"] == pytest.approx(0.5)


def test_undefined_rates_are_none_and_left_out_of_differences() -> None:
    report = fairness_report([("a", False, False), ("b", True, True)])
    assert report["groups"]["a"]["tpr"] is None
    assert report["groups"]["a"]["precision"] is None
    assert report["equal_opportunity_difference"] is None
    assert report["demographic_parity_difference"] == pytest.approx(1.0)


def test_the_report_from_aggregated_counts_equals_the_report_from_rows() -> None:
    rows = [("a", True, True), ("a", False, True), ("a", False, False), ("b", True, False), ("b", True, True)]
    counts = {"a": [1, 1, 0, 1], "b": [0, 0, 1, 1]}
    assert fairness_from_counts(counts) == fairness_report(rows)
