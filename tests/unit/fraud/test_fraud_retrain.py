from pathlib import Path

import numpy as np

from streamsense.models.fraud.features import FraudFeaturePipeline
from streamsense.models.fraud.registry import FraudModelRegistry
from streamsense.models.fraud.training import retrain
from streamsense.models.fraud.xgb_model import XGBParams


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
        _rows(X, y, pipeline_names), tmp_path, pipeline_names, {}, params=XGBParams(n_estimators=20), gan="off"
    )
    assert artifact is not None and artifact.version == 1
    assert artifact.metrics["validation"]["roc_auc"] > 0.8
    assert 0.0 < artifact.threshold < 1.0
    assert registry.current().version == 1


def test_retrain_refuses_to_publish_with_too_few_frauds(tmp_path: Path, tiny_xy, pipeline_names) -> None:
    X, y = tiny_xy
    few = np.zeros_like(y)
    few[:5] = 1
    assert retrain(_rows(X, few, pipeline_names), tmp_path, pipeline_names, {}, gan="off") is None
    assert not any(tmp_path.iterdir())


def test_retrain_teaches_the_booster_cold_copies_of_a_share_of_its_rows(tmp_path: Path, tiny_xy) -> None:
    X, y = tiny_xy
    pipeline = FraudFeaturePipeline()
    rows = _rows(X, y, pipeline.names)
    artifact = retrain(
        rows, tmp_path, pipeline.names, {}, params=XGBParams(n_estimators=20), gan="off", as_new=pipeline.as_new
    )
    assert artifact is not None
    train_rows, copies = artifact.metrics["train_rows"], artifact.metrics["train_cold_copies"]
    assert copies % 2 == 0 and 0.15 * train_rows < copies < 0.25 * train_rows
    plain = retrain(rows, tmp_path, pipeline.names, {}, params=XGBParams(n_estimators=20), gan="off")
    assert plain is not None and plain.metrics["train_cold_copies"] == 0
