import numpy as np
import pytest

from streamsense.models.drift.report import DriftReport, FeatureDrift, build_report, holm_adjusted


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


def test_ks_levels_are_holm_adjusted_over_the_reports_tests_so_many_stable_features_do_not_warn_by_chance() -> None:
    rows = [FeatureDrift(feature=f"f{i}", statistic="ks_pvalue", value=0.03, level="warn") for i in range(33)]
    rows += [FeatureDrift(feature="amount", statistic="ks_pvalue", value=1e-9, level="alert")]
    rows += [FeatureDrift(feature="amount", statistic="psi", value=0.3, level="alert", threshold=0.25)]
    adjusted = {(f.feature, f.statistic): f for f in holm_adjusted(rows)}
    assert adjusted["f0", "ks_pvalue"].level == "ok" and adjusted["f0", "ks_pvalue"].value == pytest.approx(33 * 0.03)
    assert adjusted["amount", "ks_pvalue"].level == "alert"
    assert adjusted["amount", "ks_pvalue"].value == pytest.approx(34e-9)
    assert adjusted["amount", "psi"] == rows[-1]


def test_with_no_drift_in_33_features_a_report_rarely_warns() -> None:
    rng = np.random.default_rng(1)
    warned = 0
    for _ in range(40):
        sample = {f"f{i}": rng.normal(size=500) for i in range(33)}
        report = build_report("m", sample, {f"f{i}": rng.normal(size=500) for i in range(33)})
        warned += report.level != "ok"
    assert warned <= 4
