import json
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from streamsense.models.fraud.artifact import SAMPLE_FILE, FraudArtifact, TrainingChoices, load, save
from streamsense.models.fraud.features import FraudFeaturePipeline
from streamsense.models.fraud.online import OnlineFraudModel
from streamsense.models.fraud.registry import FraudModelRegistry
from streamsense.models.fraud.scorer import FraudScorer, checkpoint_files
from streamsense.models.fraud.training import retrain
from streamsense.models.fraud.xgb_model import XGBParams

OFF = TrainingChoices(gan="off")


def _rows(X: np.ndarray, y: np.ndarray, names: list[str]) -> list[dict]:
    return [
        {
            "features": dict(zip(names, row.tolist(), strict=True)),
            "is_fraud": bool(label),
            "event_time": 1.7e9 + 60.0 * i,
            "online_logit": float(row[0]),
        }
        for i, (row, label) in enumerate(zip(X, y, strict=True))
    ]


def test_retrain_publishes_a_new_version_that_the_registry_picks_up(tmp_path: Path, tiny_xy, pipeline_names) -> None:
    X, y = tiny_xy
    registry = FraudModelRegistry(tmp_path, check_every_s=0.0)
    assert registry.current() is None
    artifact = retrain(
        _rows(X, y, pipeline_names), tmp_path, pipeline_names, {}, params=XGBParams(n_estimators=20), choices=OFF
    )
    assert artifact is not None and artifact.version == 1
    assert artifact.metrics["validation"]["roc_auc"] > 0.8
    assert 0.0 < artifact.threshold < 1.0
    assert registry.current().version == 1


def test_retrain_refuses_to_publish_with_too_few_frauds(tmp_path: Path, tiny_xy, pipeline_names) -> None:
    X, y = tiny_xy
    few = np.zeros_like(y)
    few[:5] = 1
    assert retrain(_rows(X, few, pipeline_names), tmp_path, pipeline_names, {}, choices=OFF) is None
    assert not any(tmp_path.iterdir())


def test_retrain_teaches_the_booster_cold_copies_of_a_share_of_its_rows(tmp_path: Path, tiny_xy) -> None:
    X, y = tiny_xy
    pipeline = FraudFeaturePipeline()
    rows = _rows(X, y, pipeline.names)
    artifact = retrain(
        rows, tmp_path, pipeline.names, {}, params=XGBParams(n_estimators=20), choices=OFF, as_new=pipeline.as_new
    )
    assert artifact is not None
    train_rows, copies = artifact.metrics["train_rows"], artifact.metrics["train_cold_copies"]
    assert copies % 2 == 0 and 0.15 * train_rows < copies < 0.25 * train_rows
    plain = retrain(rows, tmp_path, pipeline.names, {}, params=XGBParams(n_estimators=20), choices=OFF)
    assert plain is not None and plain.metrics["train_cold_copies"] == 0


def test_a_retraining_sets_the_threshold_by_the_alert_rate_it_was_given_and_keeps_the_choices(
    tmp_path: Path, tiny_xy, pipeline_names
) -> None:
    X, y = tiny_xy
    choices = TrainingChoices(target_alert_rate=0.05, gan="off", cold_share=0.0)
    artifact = retrain(
        _rows(X, y, pipeline_names), tmp_path, pipeline_names, {}, choices, params=XGBParams(n_estimators=20)
    )
    assert artifact is not None
    assert 0.04 <= artifact.metrics["validation"]["at_threshold"]["alert_rate"] <= 0.06
    assert load(tmp_path / artifact.version_name).choices == choices


def test_a_worker_retrains_with_the_choices_of_the_version_it_replaces(
    tmp_path: Path, tiny_artifact: FraudArtifact, tiny_xy
) -> None:
    choices = TrainingChoices(target_alert_rate=0.02, gan="off", cold_share=0.0)
    save(replace(tiny_artifact, choices=choices), tmp_path)
    scorer = FraudScorer.from_artifacts(tmp_path, check_every_s=0.0)
    X, y = tiny_xy
    retrained = scorer.retrain(_rows(X, y, scorer.pipeline.names), 20, scorer.checkpoints())
    assert retrained is not None and retrained.version == 2
    assert retrained.choices == choices
    assert retrained.metrics["train_cold_copies"] == 0
    assert retrained.metrics["gan_augmentation"]["enabled"] is False
    assert 0.015 <= retrained.metrics["validation"]["at_threshold"]["alert_rate"] <= 0.025


def test_a_version_saved_before_choices_were_kept_reads_as_the_defaults(tmp_path: Path, tiny_artifact) -> None:
    folder = save(tiny_artifact, tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    del meta["choices"]
    (folder / "meta.json").write_text(json.dumps(meta))
    assert load(folder).choices == TrainingChoices()


def _learned(scorer: FraudScorer, rows: list[dict]) -> None:
    """Labels reach the online model and the global prior, and transactions the global state, as in a worker."""
    for i, row in enumerate(rows):
        scorer.pipeline.learn_global(1.7e9 + 60.0 * i, 10.0 + i % 400)
        scorer.learn_one(row["features"], row["is_fraud"])


def _warm_checkpoints(tiny_xy, n: int) -> dict[str, bytes]:
    """Checkpoints of a scorer that learned the first ``n`` rows."""
    warm = FraudScorer(FraudFeaturePipeline(), OnlineFraudModel(), None)
    X, y = tiny_xy
    _learned(warm, _rows(X[:n], y[:n], warm.pipeline.names))
    return warm.checkpoints()


def test_a_worker_started_after_a_retraining_takes_up_the_state_the_retraining_kept(
    tmp_path: Path, tiny_artifact: FraudArtifact, tiny_xy
) -> None:
    save(replace(tiny_artifact, choices=OFF), tmp_path, checkpoint_files(FraudFeaturePipeline(), OnlineFraudModel()))
    live = FraudScorer.from_artifacts(tmp_path, check_every_s=0.0)
    X, y = tiny_xy
    rows = _rows(X, y, live.pipeline.names)
    _learned(live, rows)
    assert live.retrain(rows, 20, live.checkpoints()) is not None
    _learned(live, rows[:10])  # after the snapshot: not in the version

    started = FraudScorer.from_artifacts(tmp_path, check_every_s=0.0)
    assert started.registry.current().version == 2 and (tmp_path / "v0002" / SAMPLE_FILE).is_file()
    assert started.online.n_learned == len(rows) == live.online.n_learned - 10
    assert started.pipeline.global_state["n"] == len(rows)
    assert started.pipeline.global_state["edges"]


def test_a_worker_takes_up_the_newest_checkpoints_when_the_newest_version_has_none(
    tmp_path: Path, tiny_artifact: FraudArtifact, tiny_xy
) -> None:
    save(tiny_artifact, tmp_path, _warm_checkpoints(tiny_xy, 300))
    save(tiny_artifact, tmp_path)  # as a worker's retraining wrote it before stop 34
    started = FraudScorer.from_artifacts(tmp_path, check_every_s=0.0)
    assert started.registry.current().version == 2
    assert started.online.n_learned == 300 and started.pipeline.global_state["n"] == 300


def test_a_restarted_worker_continues_from_its_live_state_unless_the_current_version_reads_other_features(
    tmp_path: Path, tiny_artifact: FraudArtifact, tiny_xy
) -> None:
    save(tiny_artifact, tmp_path, checkpoint_files(FraudFeaturePipeline(), OnlineFraudModel()))
    live = FraudScorer.from_artifacts(tmp_path, check_every_s=0.0)
    X, y = tiny_xy
    _learned(live, _rows(X[:300], y[:300], live.pipeline.names))
    kept = live.checkpoints()

    restarted = FraudScorer.from_artifacts(tmp_path, check_every_s=0.0, live=kept)
    assert restarted.online.n_learned == 300 and restarted.pipeline.global_state["n"] == 300

    save(replace(tiny_artifact, names=[*tiny_artifact.names, "another_feature"]), tmp_path)
    other = FraudScorer.from_artifacts(tmp_path, check_every_s=0.0, live=kept)
    assert other.registry.current().version == 2
    assert other.online.n_learned == 0 and other.pipeline.global_state["n"] == 0


def test_a_damaged_live_state_is_passed_over_for_the_models_checkpoints(
    tmp_path: Path, tiny_artifact: FraudArtifact, tiny_xy
) -> None:
    good = _warm_checkpoints(tiny_xy, 50)
    save(tiny_artifact, tmp_path, good)
    for damaged in (
        {**good, "online.pkl": good["online.pkl"][:20]},
        {"online.pkl": good["online.pkl"]},
        {**good, "online.pkl": pickle.dumps({"not": "a model"})},
    ):
        started = FraudScorer.from_artifacts(tmp_path, check_every_s=0.0, live=damaged)
        assert started.online.n_learned == 50, "the version's checkpoints"


def test_a_version_from_before_choices_were_kept_reads_its_recorded_rule_and_gan_mode(
    tmp_path: Path, tiny_artifact: FraudArtifact
) -> None:
    metrics = {"combined": {"threshold_rule": {"target_alert_rate": 0.01}}, "gan_augmentation": {"mode": "off"}}
    folder = save(replace(tiny_artifact, metrics=metrics), tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    del meta["choices"]
    (folder / "meta.json").write_text(json.dumps(meta))
    assert load(folder).choices == TrainingChoices(target_alert_rate=0.01, gan="off")
    meta["choices"] = {"gan": "sometimes"}
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="unreadable training choices"):
        load(folder)


def test_a_started_worker_counts_the_traffic_after_its_checkpoint_at_the_rate_the_checkpoint_held(
    tmp_path: Path, tiny_artifact: FraudArtifact, tiny_xy
) -> None:
    save(tiny_artifact, tmp_path, _warm_checkpoints(tiny_xy, 300))  # 300 transactions a minute apart
    started = FraudScorer.from_artifacts(tmp_path, check_every_s=0.0)
    g = started.pipeline.global_state
    first, last = 1.7e9, 1.7e9 + 60.0 * 299
    assert g["held"] == [first, last]
    assert g["rate"] == pytest.approx(300 * 86_400 / (last - first))  # over the event time it spans
