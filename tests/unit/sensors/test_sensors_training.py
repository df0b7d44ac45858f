"""Forecaster training is deterministic; RUL probabilities behave; warning scoring follows its definitions."""

import math

import numpy as np
import torch

from streamsense.models.sensors.forecaster import TrainConfig, failure_probability, train
from streamsense.models.sensors.scoring import FALSE_ALARM_MINUTES, summarise, unit_outcome


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(64, 6, 3)).astype(np.float32)
    rul = rng.uniform(0, 500, 64)
    return windows, rul


def test_training_with_the_same_seed_gives_identical_weights() -> None:
    windows, rul = _data()
    config = TrainConfig(hidden=4, epochs=1, batch_size=32, seed=3)
    a, _ = train(windows, rul, config)
    b, _ = train(windows, rul, config)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_forecaster_without_rul_trains_on_forecast_loss_only() -> None:
    windows, _ = _data()
    model, history = train(windows, None, TrainConfig(hidden=4, epochs=1, batch_size=32))
    assert model.rul is None and history["rul_nll"] == 0.0 and history["forecast_mse"] > 0


def test_failure_probability_grows_with_the_horizon_and_shrinks_with_predicted_rul() -> None:
    mu = np.array([math.log1p(10.0), math.log1p(100.0)])
    log_sigma = np.log(np.array([0.3, 0.3]))
    p15 = failure_probability(mu, log_sigma, 15.0)
    p60 = failure_probability(mu, log_sigma, 60.0)
    assert p15[0] > 0.5 > p15[1]
    assert np.all(p60 >= p15)


def test_warning_covering_the_failure_counts_its_lead_and_early_or_healthy_episodes_are_false_alarms() -> None:
    assert unit_outcome([(960.0, 999.0)], last_minute=999.0, failure_minute=1000.0) == (40.0, 0)
    early = 1000.0 - FALSE_ALARM_MINUTES - 1
    assert unit_outcome([(early, early + 30), (990.0, 999.0)], 999.0, 1000.0) == (10.0, 1)
    assert unit_outcome([(500.0, 560.0)], 999.0, 1000.0) == (-1.0, 1)
    assert unit_outcome([(10.0, 50.0), (70.0, 90.0)], 4319.0, math.nan) == (-1.0, 2)


def test_summary_reports_the_share_warned_at_least_the_horizon_ahead() -> None:
    summary = summarise([40.0, 10.0, -1.0, 20.0], false_alarms=1, episodes=5, unit_days=10.0, horizon_minutes=15.0)
    assert summary["warned_15min_share"] == 0.5
    assert summary["median_lead_minutes"] == 20.0
    assert summary["missed_failures"] == 1
    assert summary["false_alarms_per_unit_day"] == 0.1 and summary["false_alarm_share"] == 0.2
