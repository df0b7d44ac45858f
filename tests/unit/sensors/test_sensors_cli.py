"""The sensor commands are registered on the shared command groups."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamsense.cli.main import app
from streamsense.cli.sensors import _cached_as_asked, artifact_path
from streamsense.settings import get_settings


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


def test_train_sensors_if_missing_counts_only_artifacts_trained_with_the_options_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMSENSE_CACHE_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert not _cached_as_asked(10, 15.0)
        for name in ("degradation", "suthaharan"):
            artifact_path(name).mkdir(parents=True)
            meta = {"horizon_minutes": 15.0, "metrics": {"train_epochs": 10}}
            (artifact_path(name) / "meta.json").write_text(json.dumps(meta))
        assert _cached_as_asked(10, 15.0)
        assert not _cached_as_asked(6, 15.0)
        assert not _cached_as_asked(10, 30.0)
    finally:
        get_settings.cache_clear()
