import numpy as np
import pytest

from streamsense.models.fraud.blend import (
    expected_calibration_error,
    fit_blend,
    threshold_for_alert_rate,
    threshold_for_precision,
)
from streamsense.models.fraud.metrics import card_precision_at_k, threshold_metrics


def test_threshold_for_precision_is_the_lowest_score_reaching_the_target() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    y = np.array([1, 1, 0, 1, 0])
    assert threshold_for_precision(scores, y, 0.75) == 0.6  # top 4: 3/4 precision
    assert threshold_for_precision(scores, y, 1.0) == 0.8


def test_threshold_for_alert_rate_flags_that_share() -> None:
    scores = np.linspace(0, 1, 1001)
    assert (scores >= threshold_for_alert_rate(scores, 0.1)).mean() == pytest.approx(0.1, abs=0.002)


def test_blend_learns_calibrated_probabilities_from_two_scores() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=20_000)
    y = (rng.uniform(size=z.size) < 1 / (1 + np.exp(-(2 * z - 3)))).astype(int)
    blend = fit_blend(z + rng.normal(scale=2, size=z.size), z, y)
    assert blend.w_xgb > blend.w_online > -0.1
    p = blend.score_many(np.zeros_like(z), z)
    assert expected_calibration_error(p, y) < 0.02


def test_card_precision_at_k_averages_daily_shares_of_compromised_top_cards() -> None:
    day = np.array([0, 0, 0, 0, 1, 1, 1])
    card = np.array([1, 1, 2, 3, 1, 2, 3])
    score = np.array([0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.6])
    y = np.array([0, 1, 0, 0, 0, 0, 1])
    # day 0, top 2 cards: 1 (fraud via its second tx), 2 -> 1/2; day 1: cards 2, 3 -> 1/2
    assert card_precision_at_k(day, card, score, y, k=2) == pytest.approx(0.5)


def test_threshold_metrics_report_precision_recall_and_alert_rate() -> None:
    score = np.array([0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.6])
    y = np.array([1, 1, 0, 0, 0, 0, 1])
    got = threshold_metrics(score, y, 0.65)
    assert got == pytest.approx({"threshold": 0.65, "precision": 1 / 3, "recall": 1 / 3, "alert_rate": 3 / 7}, abs=1e-4)
