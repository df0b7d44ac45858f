"""A tiny sensor model (untrained LSTM, frozen HST on simulated rows) shared by the sensor unit tests."""

import numpy as np
import pytest
import torch
from river.anomaly import HalfSpaceTrees

from streamsense.datasets.degradation import CHANNELS, NOISE, REGIME_LEVEL
from streamsense.models.sensors.artifact import SensorModel
from streamsense.models.sensors.forecaster import SensorLSTM
from streamsense.models.sensors.policy import AdaptiveThreshold, WarningPolicy


@pytest.fixture(scope="session")
def tiny_model() -> SensorModel:
    torch.manual_seed(0)
    net = SensorLSTM(len(CHANNELS), hidden=8)
    net.eval()
    model = SensorModel(
        name="tiny",
        version="test",
        channels=CHANNELS,
        step_s=60.0,
        seq_len=8,
        lateness=3,
        regime_mean=REGIME_LEVEL.copy(),
        regime_std=np.tile(NOISE, (len(REGIME_LEVEL), 1)),
        resid_std=np.ones(len(CHANNELS)),
        net=net,
        threshold=AdaptiveThreshold(floor=3.0, warmup=5),
        hst=HalfSpaceTrees(n_trees=5, height=4, window_size=50, seed=0),
        hst_threshold=0.9,
        warning=WarningPolicy(look_ahead_minutes=30.0, p_enter=0.5, p_exit=0.25),
    )
    rng = np.random.default_rng(0)
    for z in rng.normal(size=(200, len(CHANNELS))):
        model.hst.learn_one(model.hst_features(z))
    return model
