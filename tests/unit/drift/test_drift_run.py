from datetime import UTC, datetime, timedelta, timezone

from streamsense.models.drift.report import DriftReport, FeatureDrift
from streamsense.models.drift.run import DriftRun, PerformancePoint, ScoreHistogram, Window
from streamsense.schemas.base import ModelRef
from streamsense.schemas.payments import PaymentDecision
from streamsense.streams.drift_labels import label_action
from streamsense.streams.index_templates import DRIFT_MAPPINGS, LABEL_MAPPINGS

T0 = datetime(2026, 4, 1, tzinfo=UTC)


def _run(**overrides: object) -> DriftRun:
    features = [
        FeatureDrift(feature="amount", statistic="psi", value=0.3, level="alert", threshold=0.25, pvalue=1e-6),
        FeatureDrift(feature="hour", statistic="psi", value=0.12, level="warn", threshold=0.1),
        FeatureDrift(feature="score", statistic="psi", value=0.01, level="ok"),
        FeatureDrift(feature="multivariate", statistic="adversarial_auc", value=0.8, level="alert", threshold=0.7),
    ]
    fields = {
        "stream": "payments",
        "model": "m",
        "reference": Window(start=T0, end=T0 + timedelta(hours=1)),
        "current": Window(start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2)),
        "report": DriftReport(model="m", reference_size=500, current_size=400, features=features),
        "score_histogram": ScoreHistogram(left_edges=[0.0, 0.5], width=0.5, reference=[3, 1], current=[1, 3]),
        "current_performance": PerformancePoint(n=100, positives=10, auc=0.8, accuracy=0.9),
        "adversarial_top_features": ["amount"],
    }
    return DriftRun(**(fields | overrides))


def test_crossed_lists_alerts_before_warnings() -> None:
    assert _run().crossed == ["amount/psi", "multivariate/adversarial_auc", "hour/psi"]


def test_rows_fit_the_strict_drift_mapping_and_carry_plot_data() -> None:
    rows = dict(_run().rows())
    assert len(rows) == 5  # four statistics and the current window's AUC
    for doc in rows.values():
        assert set(doc) <= set(DRIFT_MAPPINGS["properties"]), set(doc) - set(DRIFT_MAPPINGS["properties"])
    score = next(d for d in rows.values() if d["feature"] == "score")
    assert score["score_histogram"]["current"] == [1, 3]
    assert next(d for d in rows.values() if d["statistic"] == "adversarial_auc")["top_features"] == ["amount"]


def test_rows_carry_each_statistics_pvalue_so_a_dashboard_can_tell_a_tested_level_from_an_untested_one() -> None:
    pvalues = {(d["feature"], d["statistic"]): d["pvalue"] for _, d in _run().rows() if d["statistic"] == "psi"}
    assert pvalues[("amount", "psi")] == 1e-6
    assert pvalues[("hour", "psi")] is None


def test_row_ids_are_deterministic_per_window_and_differ_across_windows() -> None:
    first, again = _run(), _run()
    later = _run(current=Window(start=T0 + timedelta(hours=2), end=T0 + timedelta(hours=3)))
    assert [i for i, _ in first.rows()] == [i for i, _ in again.rows()]
    assert not {i for i, _ in first.rows()} & {i for i, _ in later.rows()}


def test_the_same_windows_given_with_another_utc_offset_get_the_same_row_ids() -> None:
    paris = timezone(timedelta(hours=2))
    shifted = _run(
        reference=Window(start=T0.astimezone(paris), end=(T0 + timedelta(hours=1)).astimezone(paris)),
        current=Window(
            start=(T0 + timedelta(hours=1)).astimezone(paris), end=(T0 + timedelta(hours=2)).astimezone(paris)
        ),
    )
    assert [i for i, _ in shifted.rows()] == [i for i, _ in _run().rows()]


def test_run_round_trips_through_json_as_on_the_topic() -> None:
    run = _run()
    assert DriftRun.model_validate_json(run.model_dump_json()) == run


def test_label_document_fits_the_strict_label_mapping() -> None:
    decision = PaymentDecision(
        event_id="tx-1",
        event_time=T0,
        decided_at=T0,
        key="C1",
        model=ModelRef(name="m", version="1"),
        score=0.7,
        label="fraud",
        threshold=0.5,
        latency_ms=1.0,
    )
    action = label_action(decision, "legit", T0 + timedelta(days=3), positive=False, audit={"gender": "female"})
    assert action["_id"] == "tx-1" and action["_index"] == "streamsense-labels-payments"
    assert set(action["_source"]["audit"]) <= set(LABEL_MAPPINGS["properties"]["audit"]["properties"])
    assert set(action["_source"]) == set(LABEL_MAPPINGS["properties"])
    assert action["_source"]["correct"] is False


def test_an_unchecked_feature_gets_a_row_naming_why_that_fits_the_strict_mapping_and_crosses_nothing() -> None:
    report = DriftReport(model="m", reference_size=500, current_size=400, unchecked={"empty": "no_reference_values"})
    rows = [doc for _, doc in _run(report=report).rows() if doc["feature"] == "empty"]
    assert [(d["statistic"], d["level"], d["crossed"]) for d in rows] == [("no_reference_values", "ok", False)]
    assert set(rows[0]) <= set(DRIFT_MAPPINGS["properties"])
