"""Out-of-range options and settings are one clear line and a non-zero exit, never a traceback."""

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamsense.cli.main import app, main
from streamsense.settings import get_settings


def _unboxed(output: str) -> str:
    """The output with typer's error box undone: one line of words."""
    return " ".join(output.replace("│", " ").split())


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["eval", "anomaly", "--seed", "-1", "--units", "2", "--no-int8"], "--seed"),
        (["eval", "anomaly", "--units", "0", "--no-int8"], "--units"),
        (["eval", "fraud", "--customers", "0"], "--customers"),
        (["eval", "fraud", "--seed", "-1"], "--seed"),
        (["eval", "fraud", "--target-precision", "0"], "--target-precision"),
        (["eval", "fraud", "--alert-rate", "1.5"], "--alert-rate"),
        (["eval", "dst", "--dialogues", "0"], "--dialogues"),
        (["eval", "drift-detectors", "--runs", "0"], "--runs"),
        (["eval", "drift-detectors", "--seed", "-1"], "--seed"),
        (["eval", "drift-detectors", "--n", "100", "--change-point", "500"], "--change-point"),
        (["eval", "drift-detectors", "--p-before", "2"], "--p-before"),
        (["eval", "drift-detectors", "--p-after", "0.2,abc"], "--p-after"),
        (["eval", "drift-detectors", "--p-after", "1.5"], "--p-after"),
        (["eval", "drift-detectors", "--delta", "0"], "--delta"),
        (["eval", "drift-thresholds", "--sizes", "0"], "--sizes"),
        (["eval", "drift-thresholds", "--sizes", "10.5"], "--sizes"),
        (["eval", "drift-thresholds", "--shifts", "-1"], "--shifts"),
        (["eval", "drift-thresholds", "--shifts", "nan"], "--shifts"),
        (["eval", "drift-thresholds", "--adversarial-n", "2"], "--adversarial-n"),
        (["eval", "drift-thresholds", "--seed", "-1"], "--seed"),
        (["train", "sensors", "--epochs", "0"], "--epochs"),
        (["train", "sensors", "--horizon-minutes", "-5"], "--horizon-minutes"),
        (["report", "fraud", "--top", "0"], "--top"),
        (["worker", "run", "--stream", "payments", "--web-port", "70000"], "--web-port"),
    ],
)
def test_an_option_out_of_range_is_a_usage_error_naming_it(args: list[str], option: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {option}" in _unboxed(result.output).replace("'", "")


def test_kibana_import_refuses_a_url_that_is_not_http_without_echoing_it() -> None:
    result = CliRunner().invoke(app, ["kibana", "import", "--url", "notaurl"])
    assert result.exit_code == 2
    assert "must be an http:// or https:// URL" in _unboxed(result.output)


@pytest.mark.parametrize("directory", ["/etc/passwd", "/proc/nope"])
def test_schemas_export_into_a_path_that_cannot_be_a_folder_is_a_usage_error(directory: str) -> None:
    result = CliRunner().invoke(app, ["schemas", "export", directory])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and directory in _unboxed(result.output)


def test_schemas_export_still_writes_into_a_new_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schemas", "export", str(tmp_path / "new")])
    assert result.exit_code == 0
    assert (tmp_path / "new" / "Transaction.json").is_file()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("STREAMSENSE_ES_URL", "ftp://x"),
        ("STREAMSENSE_ES_URL", "http://user:s3cret@es"),
        ("STREAMSENSE_BATCH_SIZE", "0"),
    ],
)
def test_an_invalid_setting_stops_the_command_with_one_line_naming_it_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    monkeypatch.setattr(sys, "argv", ["streamsense", "drift", "report", "--since", "1h"])
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exited:
            main()
    finally:
        get_settings.cache_clear()
    assert exited.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {variable}: ")
    assert "s3cret" not in lines[0]
