"""The sensor commands are registered on the shared command groups."""

from typer.testing import CliRunner

from streamsense.cli.main import app


def test_sensor_commands_are_listed_under_their_groups() -> None:
    runner = CliRunner()
    assert "anomaly" in runner.invoke(app, ["eval", "--help"]).output
    assert "sensors" in runner.invoke(app, ["train", "--help"]).output
    assert "suthaharan" in runner.invoke(app, ["data", "--help"]).output


def test_eval_anomaly_refuses_the_seed_of_a_fleet_the_model_was_trained_or_tuned_on() -> None:
    for seed in ("101", "202"):
        result = CliRunner().invoke(app, ["eval", "anomaly", "--seed", seed])
        assert result.exit_code == 2
        assert "trained or tuned on" in " ".join(result.output.replace("│", " ").split())  # unwrap the error box
