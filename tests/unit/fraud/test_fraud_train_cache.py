from dataclasses import replace
from pathlib import Path

import pytest

from streamsense.cli.fraud import _cached_recipe_version
from streamsense.models.fraud.artifact import FraudArtifact, TrainingChoices, save
from streamsense.models.fraud.experiment import RECIPE
from streamsense.settings import get_settings


@pytest.fixture
def fraud_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STREAMSENSE_CACHE_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path / "artifacts" / "fraud"
    get_settings.cache_clear()


def test_a_cache_trained_by_an_older_recipe_does_not_count_as_trained(
    fraud_root: Path, tiny_artifact: FraudArtifact
) -> None:
    save(replace(tiny_artifact, metrics={}), fraud_root)
    save(replace(tiny_artifact, metrics={"recipe": RECIPE - 1}), fraud_root)
    assert _cached_recipe_version(TrainingChoices()) is None


def test_the_newest_version_of_this_recipe_counts_even_under_a_worker_retrained_one(
    fraud_root: Path, tiny_artifact: FraudArtifact
) -> None:
    trained = save(replace(tiny_artifact, metrics={"recipe": RECIPE}), fraud_root)
    save(replace(tiny_artifact, metrics={"validation": {}}), fraud_root)
    assert _cached_recipe_version(TrainingChoices()) == trained


def test_a_version_trained_with_other_choices_does_not_count_as_trained(
    fraud_root: Path, tiny_artifact: FraudArtifact
) -> None:
    by_rate = TrainingChoices(target_alert_rate=0.01)
    trained = save(replace(tiny_artifact, metrics={"recipe": RECIPE}), fraud_root)
    assert _cached_recipe_version(by_rate) is None
    assert _cached_recipe_version(TrainingChoices()) == trained
    assert _cached_recipe_version(TrainingChoices(gan="off")) is None
