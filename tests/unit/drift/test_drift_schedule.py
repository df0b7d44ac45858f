import asyncio
from datetime import UTC, datetime, timedelta

import faust
import pytest
import typer
from typer.testing import CliRunner

from streamsense.cli.drift import _end, _windows
from streamsense.cli.main import app
from streamsense.cli.times import parse_duration
from streamsense.settings import Settings, get_settings
from streamsense.streams import drift_schedule
from streamsense.streams.drift_job import trailing_windows
from streamsense.streams.drift_schedule import drift_tick, install_drift_timer
from streamsense.streams.metrics import WorkerMetrics


def test_trailing_windows_are_adjacent_and_equal() -> None:
    now = datetime(2026, 4, 1, 12, tzinfo=UTC)
    reference, current = trailing_windows(3600, now)
    assert current.end == now and reference.end == current.start
    assert current.end - current.start == reference.end - reference.start == timedelta(hours=1)


def test_timer_is_declared_only_when_an_interval_is_set() -> None:
    app = faust.App("drift-schedule-test", broker="memory://", autodiscover=False)
    assert install_drift_timer(app, "payments", Settings(drift_interval_s=0)) is False
    assert not app._app_tasks  # faust keeps timers there (no public accessor)
    assert install_drift_timer(app, "payments", Settings(drift_interval_s=300)) is True
    assert len(app._app_tasks) == 1


def test_durations_and_explicit_windows() -> None:
    assert parse_duration("90s") == timedelta(seconds=90) and parse_duration("7d") == timedelta(days=7)
    with pytest.raises(typer.BadParameter):
        parse_duration("soon")
    reference, current = _windows(None, "2026-04-01", "2026-04-02", "2026-04-02", "2026-04-03T00:00:00Z")
    assert reference.start == datetime(2026, 4, 1, tzinfo=UTC) and current.end == datetime(2026, 4, 3, tzinfo=UTC)
    with pytest.raises(typer.BadParameter):
        _windows(None, "2026-04-01", None, None, None)


def test_drift_run_without_a_window_compares_the_workers_drift_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMSENSE_DRIFT_WINDOW_S", "600")
    get_settings.cache_clear()
    try:
        assert _windows(None, None, None, None, None) == timedelta(minutes=10)
    finally:
        get_settings.cache_clear()


def test_trailing_windows_end_now_or_at_a_time_given_and_until_is_refused_beside_the_four_bounds() -> None:
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    assert _end("now", "payments", now, es=None) == now
    assert _end("now-1h", "payments", now, es=None) == now - timedelta(hours=1)
    assert _end("2026-04-03", "payments", now, es=None) == datetime(2026, 4, 3, tzinfo=UTC)
    bounds = ["--reference-from", "2026-04-01", "--reference-to", "2026-04-02"]
    bounds += ["--current-from", "2026-04-02", "--current-to", "2026-04-03"]
    result = CliRunner().invoke(app, ["drift", "run", "--until", "newest", *bounds])
    assert result.exit_code == 2 and "--until" in result.output


@pytest.mark.parametrize(("newest", "windows"), [(datetime(2026, 4, 3, tzinfo=UTC), 1), (None, 0)])
def test_the_scheduled_job_with_windows_ending_at_the_newest_decision_compares_the_hour_before_it_or_nothing(
    monkeypatch: pytest.MonkeyPatch, newest: datetime | None, windows: int
) -> None:
    from streamsense.streams import drift_schedule

    compared = []
    monkeypatch.setattr(drift_schedule, "newest_end", lambda es, index: newest)
    monkeypatch.setattr(drift_schedule, "run_drift", lambda settings, stream, ref, cur, es: compared.append(cur) or [])
    monkeypatch.setattr(drift_schedule, "publish", lambda settings, runs, es: 0)
    assert drift_schedule.run_once("payments", Settings(drift_windows_end="newest", drift_window_s=3600)) == 0
    assert len(compared) == windows
    if windows:
        assert compared[0].end == newest and compared[0].start == newest - timedelta(hours=1)


def _psi_series(metrics: WorkerMetrics) -> dict[tuple[str, str], float]:
    return {(s.labels["model"], s.labels["feature"]): s.value for f in metrics.drift_psi.collect() for s in f.samples}


def test_a_worker_that_stops_leading_drops_its_psi_series_at_the_rebalance_and_the_leader_keeps_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = faust.App("drift-leadership-test", broker="memory://", autodiscover=False)
    metrics = WorkerMetrics()
    install_drift_timer(app, "payments", Settings(drift_interval_s=300), metrics)
    metrics.set_drift_psi({("fraud", "amount"): 0.6})
    monkeypatch.setattr(app, "is_leader", lambda: True)
    asyncio.run(app.on_partitions_assigned.send(set()))
    assert _psi_series(metrics) == {("fraud", "amount"): 0.6}
    monkeypatch.setattr(app, "is_leader", lambda: False)
    asyncio.run(app.on_partitions_assigned.send(set()))
    assert _psi_series(metrics) == {}
    assert b"streamsense_drift_psi{" not in metrics.expose()


def test_a_drift_run_that_ends_after_the_worker_stopped_leading_leaves_no_psi_series(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = faust.App("drift-leadership-run-test", broker="memory://", autodiscover=False)
    metrics = WorkerMetrics()
    leading = [True]
    monkeypatch.setattr(app, "is_leader", lambda: leading[0])

    def run_once(stream: str, settings: Settings, metrics: WorkerMetrics | None = None) -> int:
        assert metrics is not None
        metrics.set_drift_psi({("fraud", "amount"): 0.6})
        leading[0] = False  # a rebalance while the run was in its thread
        return 1

    monkeypatch.setattr(drift_schedule, "run_once", run_once)
    asyncio.run(drift_tick(app, "payments", Settings(drift_interval_s=300), metrics))
    assert _psi_series(metrics) == {}
    leading[0] = True
    monkeypatch.setattr(drift_schedule, "run_once", lambda *args: metrics.set_drift_psi({("fraud", "amount"): 0.6}))
    asyncio.run(drift_tick(app, "payments", Settings(drift_interval_s=300), metrics))
    assert _psi_series(metrics) == {("fraud", "amount"): 0.6}
