"""SensorModel save/load round trip: same configuration, same verdicts."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from streamsense.datasets.degradation import simulate
from streamsense.models.sensors.artifact import SensorModel, load
from streamsense.models.sensors.monitor import SensorMonitor


def test_saved_model_loads_with_identical_configuration_and_verdicts(tiny_model: SensorModel, tmp_path: Path) -> None:
    tiny_model.metrics = {"example_metric": 0.5}
    loaded = load(tiny_model.save(tmp_path / "tiny"))
    assert loaded.channels == tiny_model.channels and loaded.seq_len == tiny_model.seq_len
    assert loaded.warning == tiny_model.warning and loaded.threshold == tiny_model.threshold
    assert loaded.metrics == {"example_metric": 0.5}
    assert np.allclose(loaded.regime_mean, tiny_model.regime_mean)
    readings = list(simulate(2, seed=9, days=0.02).readings())
    _, expected = SensorMonitor(tiny_model).process_many({}, readings)
    _, got = SensorMonitor(loaded).process_many({}, readings)
    assert [v.label for v in got] == [v.label for v in expected]
    assert [v.score for v in got] == pytest.approx([v.score for v in expected])


def test_load_refuses_an_unknown_format(tiny_model: SensorModel, tmp_path: Path) -> None:
    path = tiny_model.save(tmp_path / "tiny")
    meta = (path / "meta.json").read_text().replace('"format": "1"', '"format": "99"')
    (path / "meta.json").write_text(meta)
    with pytest.raises(ValueError, match="format"):
        load(path)


def test_a_reading_without_a_known_channel_or_from_an_untrained_regime_is_unusable(tiny_model: SensorModel) -> None:
    first = tiny_model.channels[0]
    last_regime = tiny_model.n_regimes - 1
    assert tiny_model.unusable({first: 1.0}, 0) is None
    assert tiny_model.unusable({first: 1.0, "humidity": 2.0}, last_regime) is None
    no_channel = tiny_model.unusable({"humidity": 2.0}, 0)
    assert no_channel is not None and "humidity" in no_channel and first in no_channel
    new_regime = tiny_model.unusable({first: 1.0}, last_regime + 1)
    assert new_regime is not None and f"operating_regime {last_regime + 1}" in new_regime


def test_a_reading_naming_no_regime_is_unusable_for_a_model_of_several_and_judged_by_a_model_of_one(
    tiny_model: SensorModel,
) -> None:
    """Left out, the regime was taken as 0: a healthy fleet in regimes 1 and 2 read as failing."""
    first = tiny_model.channels[0]
    assert tiny_model.n_regimes > 1
    missing = tiny_model.unusable({first: 1.0}, None)
    assert missing is not None and "names no operating_regime" in missing
    one_regime = replace(tiny_model, regime_mean=tiny_model.regime_mean[:1], regime_std=tiny_model.regime_std[:1])
    assert one_regime.unusable({first: float(tiny_model.regime_mean[0, 0])}, None) is None


def test_a_reading_dated_further_ahead_of_the_clock_than_the_window_can_wait_is_unusable(
    tiny_model: SensorModel,
) -> None:
    first = tiny_model.channels[0]
    tolerance = tiny_model.step_s * tiny_model.lateness
    assert tiny_model.unusable({first: 1.0}, 0, ahead_s=tolerance) is None
    assert tiny_model.unusable({first: 1.0}, 0, ahead_s=-86_400.0) is None
    ahead = tiny_model.unusable({first: 1.0}, 0, ahead_s=tolerance + 1)
    assert ahead is not None and "after it was received" in ahead


def test_a_reading_a_million_standard_deviations_off_is_unusable_and_a_far_but_readable_one_is_not(
    tiny_model: SensorModel,
) -> None:
    first = tiny_model.channels[0]
    mean, std = tiny_model.regime_mean[0, 0], tiny_model.regime_std[0, 0]
    assert tiny_model.unusable({first: float(mean + 1000 * std)}, 0) is None
    for value in (3.5e38, -1e308, float(mean + 2e6 * std)):
        reason = tiny_model.unusable({first: value}, 0)
        assert reason is not None and f"{first} reads" in reason and "standard deviations" in reason


def test_the_reason_for_unknown_channels_names_a_few_of_them_cut_short(tiny_model: SensorModel) -> None:
    reason = tiny_model.unusable({"x" * 60_000: 1.0, **{f"c{i:02d}": 1.0 for i in range(20)}}, 0)
    assert reason is not None and len(reason) < 1_000 and reason.endswith("and 11 more")
