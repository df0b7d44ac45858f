import numpy as np

from streamsense.models.fraud.artifact import TrainingChoices
from streamsense.models.fraud.experiment import threshold_by_validation_frauds


def _scores(n: int = 40_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n) * 2.0 - 5.0
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(int)
    return z + rng.normal(size=n), z + rng.normal(size=n) * 0.5, y


def test_thresholds_set_on_fewer_validation_frauds_read_a_wider_spread_of_test_precision() -> None:
    online, margin, y = _scores()
    val, test = np.arange(len(y)) < len(y) // 2, np.arange(len(y)) >= len(y) // 2
    report = threshold_by_validation_frauds(online, margin, y, val, test, TrainingChoices(), sizes=(20, 200))
    few, many = report["20"], report["200"]
    assert 0 < many["windows"] < few["windows"] <= 30
    spread = {k: r["test_precision_mean"] - r["test_precision_p10"] for k, r in report.items()}
    assert spread["20"] > spread["200"]
    assert few["test_precision_min"] <= few["test_precision_p10"] <= few["test_precision_mean"]


def test_sizes_beyond_the_validation_frauds_are_left_out_and_an_alert_rate_rule_is_read_as_rates() -> None:
    online, margin, y = _scores()
    val, test = np.arange(len(y)) < len(y) // 2, np.arange(len(y)) >= len(y) // 2
    too_many = int(y[val].sum()) + 1
    rule = TrainingChoices(target_alert_rate=0.02)
    report = threshold_by_validation_frauds(online, margin, y, val, test, rule, sizes=(100, too_many))
    assert list(report) == ["100"]
    assert report["100"]["test_alert_rate_p10"] <= 0.02 * 1.5 and report["100"]["test_alert_rate_p90"] >= 0.02 / 1.5
