import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from streamsense.cli.main import app
from streamsense.cli.times import parse_time

runner = CliRunner()


def test_eval_drift_detectors_prints_adwin_and_baseline_per_scenario() -> None:
    args = ["eval", "drift-detectors", "--runs", "2", "--n", "1000", "--change-point", "500", "--p-after", "0.5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    scenarios = json.loads(result.output)["scenarios"]
    assert set(scenarios) == {"abrupt_0.1_to_0.5", "stationary"}
    assert scenarios["abrupt_0.1_to_0.5"]["adwin"]["detection_rate"] == 1.0
    assert scenarios["stationary"]["always_alarm"]["mean_false_alarms"] == 1000.0


def _report_args(reference: Path, current: Path) -> list[str]:
    """``report drift`` of two CSV files whose ``country`` column is categorical."""
    files = ["--reference", str(reference), "--current", str(current)]
    return ["report", "drift", *files, "--model", "m", "--categorical", "country"]


def test_report_drift_reads_two_csv_windows(tmp_path: Path) -> None:
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.write_text("amount,country\n" + "".join(f"{i % 50},{'US' if i % 2 else 'DE'}\n" for i in range(500)))
    cur.write_text("amount,country\n" + "".join(f"{i % 50 + 40},US\n" for i in range(500)))
    args = _report_args(ref, cur)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["model"] == "m" and report["reference_size"] == 500
    levels = {(f["feature"], f["statistic"]): f["level"] for f in report["features"]}
    assert levels[("amount", "psi")] == "alert"
    assert levels[("country", "js_distance")] == "alert"


def test_report_drift_reads_an_empty_cell_as_missing_and_refuses_a_word_in_a_numeric_column(tmp_path: Path) -> None:
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.write_text("amount,country\n" + "".join(f"{i % 50},US\n" for i in range(500)))
    cur.write_text("amount,country\n" + "".join((",US\n" if i % 2 else f"{i % 50},US\n") for i in range(500)))
    args = _report_args(ref, cur)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    levels = {(f["feature"], f["statistic"]): f["level"] for f in json.loads(result.output)["features"]}
    assert levels[("amount", "missing_js")] == "alert"
    cur.write_text("amount,country\n1,US\nn/a,US\n")
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "'n/a', not a number" in result.output


def test_a_csv_written_with_a_byte_order_mark_reads_as_one_without(tmp_path: Path) -> None:
    """Spreadsheets write one; the first column was named '\\ufeffamount' and the two files' columns differed."""
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.write_text("\ufeffamount,country\n" + "".join(f"{i % 50},DE\n" for i in range(200)), encoding="utf-8")
    cur.write_text("amount,country\n" + "".join(f"{i % 50},DE\n" for i in range(200)))
    result = runner.invoke(app, _report_args(ref, cur))
    assert result.exit_code == 0, result.output
    assert {f["feature"] for f in json.loads(result.output)["features"]} >= {"amount", "country"}


def test_times_other_than_now_or_now_minus_a_duration_and_empty_windows_are_usage_errors() -> None:
    """ "now+1d" and "nowish" were read as now, a huge duration raised OverflowError, and a window of 0s compared two
    empty windows."""
    now = datetime(2026, 4, 1, tzinfo=UTC)
    assert (parse_time("now", now), parse_time("now-7d", now)) == (now, now - timedelta(days=7))
    for text in ("now+1d", "nowish", "now-99999999999d", "now-7x"):
        with pytest.raises(typer.BadParameter):
            parse_time(text, now)
    result = runner.invoke(app, ["drift", "run", "--window", "0s"])
    assert result.exit_code == 2 and "longer than 0" in result.output
