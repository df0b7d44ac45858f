from datetime import UTC, datetime, timedelta

import faust
import pytest
import typer

from streamsense.cli.drift import _windows
from streamsense.cli.times import parse_duration
from streamsense.settings import Settings, get_settings
from streamsense.streams.drift_job import trailing_windows
from streamsense.streams.drift_schedule import install_drift_timer


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
        reference, current = _windows(None, None, None, None, None)
    finally:
        get_settings.cache_clear()
    assert current.end - current.start == reference.end - reference.start == timedelta(minutes=10)
    assert reference.end == current.start
