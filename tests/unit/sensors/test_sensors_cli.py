"""The sensor commands are registered on the shared command groups."""

from typer.testing import CliRunner

from streamsense.cli.main import app


def test_sensor_commands_are_listed_under_their_groups() -> None:
    runner = CliRunner()
    assert "anomaly" in runner.invoke(app, ["eval", "--help"]).output
    assert "sensors" in runner.invoke(app, ["train", "--help"]).output
    assert "suthaharan" in runner.invoke(app, ["data", "--help"]).output
