import numpy as np
import pytest

from streamsense.models.drift.report import (
    DriftReport,
    FeatureDrift,
    build_report,
    gated_row,
    holm_adjusted,
    presence_drift,
)


def test_report_flags_only_the_shifted_feature() -> None:
    rng = np.random.default_rng(0)
    reference = {"amount": rng.normal(size=2000), "hour": rng.normal(size=2000)}
    current = {"amount": rng.normal(loc=1.0, size=2000), "hour": rng.normal(size=2000)}
    report = build_report(
        "fraud-xgb",
        reference,
        current,
        categorical_reference={"country": {"US": 80, "DE": 20}},
        categorical_current={"country": {"US": 80, "DE": 20}},
    )
    assert report.level == "alert"
    assert report.drifted() == ["amount"]
    assert report.reference_size == 2000
    psi = next(f for f in report.features if f.feature == "amount" and f.statistic == "psi")
    assert psi.threshold == 0.25


def test_report_round_trips_through_json() -> None:
    report = DriftReport(
        model="m",
        reference_size=10,
        current_size=5,
        features=[FeatureDrift(feature="x", statistic="psi", value=0.12, level="warn", threshold=0.1)],
    )
    restored = DriftReport.from_json(report.to_json())
    assert restored == report
    assert restored.level == "warn"
    assert restored.drifted("warn") == ["x"]


def test_empty_report_is_ok() -> None:
    assert DriftReport(model="m", reference_size=0, current_size=0).level == "ok"


def test_values_give_one_statistic_per_feature_for_gauges() -> None:
    report = DriftReport(
        model="m",
        reference_size=10,
        current_size=10,
        features=[
            FeatureDrift(feature="x", statistic="psi", value=0.3, level="alert", threshold=0.25),
            FeatureDrift(feature="x", statistic="ks_pvalue", value=0.2, level="ok"),
            FeatureDrift(feature="y", statistic="psi", value=0.01, level="ok"),
        ],
    )
    assert report.values() == {"x": 0.3, "y": 0.01}


def test_a_missing_value_is_counted_apart_and_the_shift_of_the_others_still_alerts() -> None:
    rng = np.random.default_rng(0)
    reference, current = rng.normal(size=1000), rng.normal(loc=3.0, size=1000)
    reference[5] = np.nan
    report = build_report("m", {"x": reference}, {"x": current})
    levels = {f.statistic: f.level for f in report.features}
    assert levels == {"missing_js": "ok", "psi": "alert", "ks_pvalue": "alert"}
    assert DriftReport.from_json(report.to_json()) == report


def test_a_feature_missing_from_a_whole_window_is_an_alert_not_a_crash() -> None:
    report = build_report("m", {"x": np.ones(100)}, {"x": np.full(100, np.nan)})
    assert [(f.statistic, f.level) for f in report.features] == [("missing_js", "alert")]


def test_levels_are_holm_adjusted_per_statistic_so_many_stable_features_do_not_warn_by_chance() -> None:
    rows = [gated_row(f"f{i}", "ks_pvalue", 0.03, 0.03) for i in range(33)]
    rows += [gated_row("amount", "ks_pvalue", 1e-9, 1e-9), gated_row("amount", "psi", 0.3, 1e-12)]
    rows += [gated_row(f"f{i}", "psi", 0.3, 0.004) for i in range(3)]  # 0.004 alone counts; one of four tests, not
    rows += [FeatureDrift(feature="multivariate", statistic="adversarial_auc", value=0.8, level="alert")]
    adjusted = {(f.feature, f.statistic): f for f in holm_adjusted(rows)}
    assert [f.level for f in rows[:1] + rows[35:38]] == ["warn", "alert", "alert", "alert"]
    assert adjusted["f0", "ks_pvalue"].level == "ok" and adjusted["f0", "ks_pvalue"].value == pytest.approx(33 * 0.03)
    assert adjusted["amount", "ks_pvalue"].level == "alert"
    assert adjusted["amount", "ks_pvalue"].value == pytest.approx(34e-9)
    assert adjusted["amount", "psi"].level == "alert" and adjusted["amount", "psi"].value == 0.3
    assert adjusted["f0", "psi"].level == "ok" and adjusted["f0", "psi"].pvalue == pytest.approx(0.012)
    assert adjusted["multivariate", "adversarial_auc"] == rows[-1]


def test_a_small_move_in_the_share_of_decisions_holding_a_feature_is_noise_and_a_large_one_is_drift() -> None:
    assert presence_drift("x", (100, 100), (97, 100)).level == "ok"  # type: ignore[union-attr]
    assert presence_drift("x", (1000, 1000), (700, 1000)).level == "alert"  # type: ignore[union-attr]


def test_a_categorical_distance_between_small_samples_of_one_distribution_is_noise() -> None:
    rng = np.random.default_rng(0)
    levels = []
    for _ in range(100):
        reference, current = rng.choice(list("abcde"), 60), rng.choice(list("abcde"), 60)
        counts = [
            {c: int(n) for c, n in zip(*np.unique(s, return_counts=True), strict=True)} for s in (reference, current)
        ]
        levels.append(build_report("m", {}, {}, {"c": counts[0]}, {"c": counts[1]}).level)
    assert sum(level != "ok" for level in levels) <= 3


def test_with_no_drift_in_33_features_a_report_seldom_warns_and_a_shifted_feature_still_alerts() -> None:
    """Holm-adjusted per statistic, a no-drift report warns about as often as one test at the warn level (5%)."""
    rng = np.random.default_rng(1)
    levels = []
    for _ in range(100):
        reference = {f"f{i}": rng.normal(size=200) for i in range(33)}
        current = {f"f{i}": rng.normal(size=200) for i in range(33)}
        levels.append(build_report("m", reference, current).level)
        current["f0"] = rng.normal(1.0, size=200)
        assert "f0" in build_report("m", reference, current).drifted()
    assert sum(level != "ok" for level in levels) <= 12


def test_a_feature_with_no_finite_reference_value_is_listed_unchecked_and_the_others_are_tested() -> None:
    rng = np.random.default_rng(9)
    reference = {"x": rng.normal(size=500), "empty": np.full(500, np.nan)}
    current = {"x": rng.normal(loc=3.0, size=500), "empty": rng.normal(size=500)}
    report = build_report("m", reference, current)
    assert report.unchecked == {"empty": "no_reference_values"}
    assert {(f.feature, f.statistic) for f in report.features} == {
        ("x", "psi"),
        ("x", "ks_pvalue"),
        ("empty", "missing_js"),
    }
    assert report.drifted() == ["x", "empty"]
    assert DriftReport.from_json(report.to_json()) == report
