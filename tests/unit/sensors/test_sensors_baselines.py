"""Robust z-score and online HalfSpaceTrees baselines rank an injected spike above ordinary readings."""

import numpy as np

from streamsense.models.sensors.baselines import hst_online_scores, robust_z_scores


def _series_with_spike() -> tuple[np.ndarray, int]:
    rng = np.random.default_rng(0)
    values = rng.normal(0.0, 1.0, size=(600, 2))
    values[450] += 10.0
    return values, 450


def test_robust_z_puts_the_spike_on_top_and_scores_zero_before_its_window_fills() -> None:
    values, spike = _series_with_spike()
    scores = robust_z_scores(values, window=100)
    assert np.all(scores[:100] == 0.0)
    assert int(np.argmax(scores)) == spike


def test_online_half_space_trees_scores_the_spike_above_most_readings() -> None:
    values, spike = _series_with_spike()
    features = np.clip((values + 4.0) / 8.0, 0.0, 1.0)
    scores = hst_online_scores(features, seed=0, window_size=50)
    assert scores[spike] >= np.quantile(scores[100:], 0.99)
