"""Tiny trained models shared by the fraud unit tests (seconds, not minutes)."""

import numpy as np
import pytest

from streamsense.models.fraud.artifact import FraudArtifact
from streamsense.models.fraud.blend import Blend
from streamsense.models.fraud.features import FraudFeaturePipeline
from streamsense.models.fraud.xgb_model import XGBParams, train_booster


@pytest.fixture(scope="session")
def pipeline_names() -> list[str]:
    return FraudFeaturePipeline().names


@pytest.fixture(scope="session")
def tiny_xy(pipeline_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2_000, len(pipeline_names)))
    y = (X[:, 0] + X[:, 5] * X[:, 7] + rng.normal(scale=0.5, size=len(X)) > 1.5).astype(int)
    return X, y


@pytest.fixture(scope="session")
def tiny_artifact(tiny_xy: tuple[np.ndarray, np.ndarray], pipeline_names: list[str]) -> FraudArtifact:
    X, y = tiny_xy
    booster = train_booster(X, y, pipeline_names, XGBParams(n_estimators=25, max_depth=4))
    return FraudArtifact(booster, pipeline_names, {}, Blend(0.2, 1.0, -0.5), threshold=0.5)
