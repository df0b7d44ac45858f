import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamsense.cli.fraud import _cached_recipe_version
from streamsense.cli.main import app
from streamsense.models.fraud.artifact import SAMPLE_FILE, FraudArtifact, TrainingChoices, feature_sample, save
from streamsense.models.fraud.experiment import RECIPE
from streamsense.settings import get_settings

DEFAULT_SIMULATION = (2_500, 5_000, 0)  # train fraud's --customers, --terminals and --seed
SIMULATED = {"simulator": {"n_customers": 2_500, "n_terminals": 5_000, "n_days": 100, "seed": 0}}


@pytest.fixture
def fraud_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STREAMSENSE_CACHE_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path / "artifacts" / "fraud"
    get_settings.cache_clear()


def test_a_cache_trained_by_an_older_recipe_does_not_count_as_trained(
    fraud_root: Path, tiny_artifact: FraudArtifact
) -> None:
    save(replace(tiny_artifact, metrics={"data": SIMULATED}), fraud_root)
    save(replace(tiny_artifact, metrics={"recipe": RECIPE - 1, "data": SIMULATED}), fraud_root)
    assert _cached_recipe_version(TrainingChoices(), *DEFAULT_SIMULATION) is None


def test_the_newest_version_of_this_recipe_counts_even_under_a_worker_retrained_one(
    fraud_root: Path, tiny_artifact: FraudArtifact
) -> None:
    trained = save(replace(tiny_artifact, metrics={"recipe": RECIPE, "data": SIMULATED}), fraud_root)
    save(replace(tiny_artifact, metrics={"validation": {}}), fraud_root)
    assert _cached_recipe_version(TrainingChoices(), *DEFAULT_SIMULATION) == trained


def test_a_version_trained_with_other_choices_or_on_another_simulation_does_not_count_as_trained(
    fraud_root: Path, tiny_artifact: FraudArtifact
) -> None:
    by_rate = TrainingChoices(target_alert_rate=0.01)
    trained = save(replace(tiny_artifact, metrics={"recipe": RECIPE, "data": SIMULATED}), fraud_root)
    assert _cached_recipe_version(by_rate, *DEFAULT_SIMULATION) is None
    assert _cached_recipe_version(TrainingChoices(), *DEFAULT_SIMULATION) == trained
    assert _cached_recipe_version(TrainingChoices(gan="off"), *DEFAULT_SIMULATION) is None
    assert _cached_recipe_version(TrainingChoices(), 2_500, 5_000, 1) is None
    assert _cached_recipe_version(TrainingChoices(), 600, 5_000, 0) is None


def test_report_fraud_reads_a_retrained_version_on_its_own_sample_and_an_older_one_on_the_newest_sample(
    fraud_root: Path, tiny_artifact: FraudArtifact, tiny_xy
) -> None:
    X, _ = tiny_xy
    save(tiny_artifact, fraud_root, {SAMPLE_FILE: feature_sample(X, seed=0, rows=50)})
    save(tiny_artifact, fraud_root)  # as a worker's retraining wrote it before stop 34: no sample
    report = json.loads(CliRunner().invoke(app, ["report", "fraud", "--top", "3"]).output)
    assert (report["version"], report["sample_of"], report["rows"]) == ("v0002", "v0001", 50)
    assert len(report["mean_abs_shap"]) == 3
