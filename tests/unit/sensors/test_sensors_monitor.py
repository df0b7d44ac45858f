"""SensorMonitor: warm-up through HalfSpaceTrees, JSON state round trip, batched equals sequential, late readings."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from streamsense.datasets.degradation import REGIME_LEVEL, simulate
from streamsense.models.sensors.artifact import SensorModel
from streamsense.models.sensors.monitor import SensorMonitor
from streamsense.schemas.base import ModelRef
from streamsense.schemas.sensors import SensorAlert, SensorReading


@pytest.fixture(scope="module")
def readings() -> list[SensorReading]:
    return list(simulate(3, seed=5, days=0.02, healthy_share=1.0, missing_share=0.0).readings())


def test_device_is_scored_by_half_space_trees_until_its_window_is_full(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    monitor = SensorMonitor(tiny_model)
    device = readings[0].device_id
    own = [r for r in readings if r.device_id == device][: tiny_model.seq_len + 2]
    state = None
    scorers = []
    for reading in own:
        state, verdict = monitor.process(state, reading)
        scorers.append(verdict.scorer)
        assert verdict.label in {"normal", "anomaly", "failure_warning"}
    assert scorers[: tiny_model.seq_len - 1] == ["hst"] * (tiny_model.seq_len - 1)
    assert scorers[tiny_model.seq_len - 1 :] == ["lstm"] * 3


def test_state_survives_a_json_round_trip_between_readings(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    monitor = SensorMonitor(tiny_model)
    plain: dict = {}
    stored: dict = {}
    for reading in readings:
        key = reading.device_id
        plain[key], expected = monitor.process(plain.get(key), reading)
        state, got = monitor.process(json.loads(stored[key]) if key in stored else None, reading)
        stored[key] = json.dumps(state)
        assert got == expected
    assert json.loads(stored[key]) == plain[key]


def test_batched_processing_equals_reading_by_reading(tiny_model: SensorModel, readings: list[SensorReading]) -> None:
    monitor = SensorMonitor(tiny_model)
    sequential: dict = {}
    expected = []
    for reading in readings:
        sequential[reading.device_id], verdict = monitor.process(sequential.get(reading.device_id), reading)
        expected.append(verdict)
    batched: dict = {}
    got = []
    for start in range(0, len(readings), 7):
        updated, verdicts = monitor.process_many(batched, readings[start : start + 7])
        batched.update(updated)
        got.extend(verdicts)
    assert [(v.label, v.scorer) for v in got] == [(v.label, v.scorer) for v in expected]
    assert [v.score for v in got] == pytest.approx([v.score for v in expected], abs=1e-5)
    assert batched.keys() == sequential.keys()
    for key, state in sequential.items():
        assert batched[key]["w"] == state["w"]
        assert batched[key]["warn"] == state["warn"]
        assert batched[key]["thr"] == pytest.approx(state["thr"], rel=1e-5)


def test_too_late_reading_is_dropped_without_changing_the_state(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    monitor = SensorMonitor(tiny_model)
    device = readings[0].device_id
    own = [r for r in readings if r.device_id == device][:12]
    state = None
    for reading in own:
        state, _ = monitor.process(state, reading)
    behind = tiny_model.lateness + 1
    assert behind < tiny_model.seq_len
    stale = own[-1 - behind].model_copy(update={"event_id": "stale"})
    new_state, verdict = monitor.process(state, stale)
    assert verdict.scorer == "dropped"
    assert new_state["w"] == state["w"]


def _warm_state(monitor: SensorMonitor, own: list[SensorReading]) -> dict:
    state = None
    for reading in own:
        state, verdict = monitor.process(state, reading)
    assert verdict.scorer == "lstm" and "warn" in state
    return state


def test_readings_that_keep_coming_a_window_in_the_past_start_the_device_over_as_a_clock_that_stepped_back(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    """Dropped as late, every reading of a device whose clock went back hours went unjudged until it caught up."""
    monitor = SensorMonitor(tiny_model)
    own = [r for r in readings if r.device_id == readings[0].device_id][: tiny_model.seq_len + 8]
    state = _warm_state(monitor, own[: tiny_model.seq_len + 2])
    back = [r.model_copy(update={"event_time": r.event_time - timedelta(hours=3)}) for r in own[-6:]]
    verdicts = []
    for reading in back:
        state, verdict = monitor.process(state, reading)
        verdicts.append(verdict)
    steps = monitor.clock_step_readings
    assert steps == tiny_model.lateness + 1
    assert all(v.unusable and "too old" in v.unusable for v in verdicts[: steps - 1])
    assert [v.scorer for v in verdicts[steps - 1 :]] == ["hst"] * (len(back) - steps + 1)
    assert all(v.unusable is None for v in verdicts[steps - 1 :])
    assert state["w"]["n"] == len(back) - steps + 1
    assert "warn" not in state and "back" not in state
    assert "thr" in state, "the threshold is kept"


@pytest.mark.parametrize("back", [timedelta(minutes=30), timedelta(days=20_454)], ids=["30-min-late", "1970"])
def test_one_reading_a_window_or_more_before_the_newest_is_refused_as_too_old_and_keeps_the_window_and_latch(
    tiny_model: SensorModel, readings: list[SensorReading], back: timedelta
) -> None:
    """Taken for a clock step, one such reading wiped a failing unit's window and warning latch, and the next live
    reading, a window ahead of it, wiped them again: the unit went unwarned for 23 of its last 58 minutes."""
    monitor = SensorMonitor(tiny_model)
    own = [r for r in readings if r.device_id == readings[0].device_id][: tiny_model.seq_len + 4]
    state = _warm_state(monitor, own[:-1])
    stray = own[-2].model_copy(update={"event_id": "stray", "event_time": own[-2].event_time - back})
    refused, verdict = monitor.process(state, stray)
    behind = round(back / timedelta(seconds=tiny_model.step_s))
    assert verdict.unusable and f"too old: its slot is {behind:,} steps" in verdict.unusable
    assert verdict.scorer == "dropped"
    assert {k: v for k, v in refused.items() if k != "back"} == state and refused["back"] == 1
    after, verdict = monitor.process(refused, own[-1])
    assert verdict.scorer == "lstm" and verdict.unusable is None
    assert "back" not in after and after["w"]["n"] == state["w"]["n"] + 1


def test_too_old_readings_with_an_accepted_one_between_them_do_not_add_up_to_a_clock_step(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    monitor = SensorMonitor(tiny_model)
    own = [r for r in readings if r.device_id == readings[0].device_id][: tiny_model.seq_len + 4]
    state = _warm_state(monitor, own[:-2])
    strays = [own[0].model_copy(update={"event_time": own[0].event_time - timedelta(hours=1)})]
    for live in own[-2:]:
        for stray in strays * (monitor.clock_step_readings - 1):
            state, verdict = monitor.process(state, stray)
            assert verdict.unusable and "too old" in verdict.unusable
        state, verdict = monitor.process(state, live)
        assert verdict.scorer == "lstm"
    assert "warn" in state and "back" not in state


def test_readings_sent_twice_neither_warm_the_device_early_nor_step_the_warning_latch_twice(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    """Counted as readings, a producer's retries made a device warm on a window of half as many minutes, and each
    counted toward the warning latch's consecutive readings (a warning a minute early in the audit's probe)."""
    monitor = SensorMonitor(tiny_model)
    own = [r for r in readings if r.device_id == readings[0].device_id][: tiny_model.seq_len + 6]
    once: dict | None = None
    twice: dict | None = None
    scorers = []
    for reading in own:
        once, _ = monitor.process(once, reading)
        for copy in (reading, reading.model_copy(update={"event_id": reading.event_id + "-again"})):
            twice, verdict = monitor.process(twice, copy)
            scorers.append(verdict.scorer)
    warm_at = 2 * (tiny_model.seq_len - 1)
    assert scorers[:warm_at] == ["hst"] * warm_at and set(scorers[warm_at:]) == {"lstm"}
    assert twice["w"] == once["w"]
    assert twice["warn"] == once["warn"]


def test_late_reading_within_lateness_is_scored(tiny_model: SensorModel, readings: list[SensorReading]) -> None:
    monitor = SensorMonitor(tiny_model)
    device = readings[0].device_id
    own = [r for r in readings if r.device_id == device][:12]
    state = None
    for reading in own[:-2] + own[-1:]:
        state, _ = monitor.process(state, reading)
    late = own[-2]
    assert late.event_time < own[-1].event_time - timedelta(seconds=30)
    _, verdict = monitor.process(state, late)
    assert verdict.scorer == "lstm"


def test_device_silent_for_longer_than_the_idle_time_starts_over_cold(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    monitor = SensorMonitor(tiny_model, idle_s=3600.0)
    device = readings[0].device_id
    own = [r for r in readings if r.device_id == device][: tiny_model.seq_len + 1]
    state = None
    for reading in own:
        state, verdict = monitor.process(state, reading)
    assert verdict.scorer == "lstm"
    back = own[-1].model_copy(update={"event_id": "back", "event_time": own[-1].event_time + timedelta(minutes=62)})
    restarted, verdict = monitor.process(state, back)
    assert verdict.scorer == "hst"
    assert restarted["w"]["n"] == 1
    assert "thr" not in restarted and "warn" not in restarted


def test_a_reading_a_whole_window_after_the_last_starts_the_window_and_the_warning_over_but_keeps_the_threshold(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    """Judged on forward-filled rows, a healthy unit back from half an hour of silence was warned of failure."""
    monitor = SensorMonitor(tiny_model, idle_s=86_400.0)
    own = [r for r in readings if r.device_id == readings[0].device_id][: tiny_model.seq_len + 1]
    state = None
    for reading in own:
        state, verdict = monitor.process(state, reading)
    assert verdict.scorer == "lstm" and "warn" in state

    def after(minutes: float) -> SensorReading:
        return own[-1].model_copy(update={"event_time": own[-1].event_time + timedelta(minutes=minutes)})

    _, verdict = monitor.process(state, after(tiny_model.seq_len - 1))
    assert verdict.scorer == "lstm", "a gap shorter than the window keeps it (forward filled)"
    restarted, verdict = monitor.process(state, after(tiny_model.seq_len))
    assert verdict.scorer == "hst"
    assert restarted["w"]["n"] == 1 and "warn" not in restarted
    assert restarted["thr"] == state["thr"]


def test_silent_tells_whether_a_reading_at_a_time_would_start_the_device_over(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    monitor = SensorMonitor(tiny_model, idle_s=3600.0)
    state, _ = monitor.process(None, readings[0])
    slot_end = monitor.keeper.ends_at(state["w"])
    assert readings[0].event_time.timestamp() == slot_end - tiny_model.step_s / 2, "its slot is centred on it"
    assert not monitor.silent(state, slot_end + 3600.0)
    assert monitor.silent(state, slot_end + 3600.5)
    assert not SensorMonitor(tiny_model).silent(state, slot_end + 1e9), "no idle time: never silent"


def test_int8_monitor_scores_close_to_fp32(tiny_model: SensorModel, readings: list[SensorReading]) -> None:
    fp32, int8 = SensorMonitor(tiny_model), SensorMonitor(tiny_model, int8=True)
    _, a = fp32.process_many({}, readings)
    _, b = int8.process_many({}, readings)
    warm = [i for i, v in enumerate(a) if v.scorer == "lstm"]
    assert warm
    assert [b[i].score for i in warm] == pytest.approx([a[i].score for i in warm], rel=0.1, abs=0.1)


def test_verdict_fields_build_a_valid_sensor_alert(tiny_model: SensorModel, readings: list[SensorReading]) -> None:
    _, verdicts = SensorMonitor(tiny_model).process_many({}, readings)
    for reading, verdict in zip(readings, verdicts, strict=True):
        alert = SensorAlert(
            event_id=reading.event_id,
            event_time=reading.event_time,
            decided_at=reading.event_time,
            key=reading.device_id,
            model=ModelRef(name=f"sensors-{tiny_model.name}", version=tiny_model.version),
            latency_ms=0.0,
            **verdict.alert_fields(),
        )
        assert alert.label == verdict.label


def _on_the_grid(model: SensorModel, readings: list[SensorReading]) -> list[SensorReading]:
    """The first device's readings one step apart, mid-slot: one slot each, whatever the simulator's jitter."""
    own = [r for r in readings if r.device_id == readings[0].device_id]
    start = (own[0].event_time.timestamp() // model.step_s + 0.5) * model.step_s
    return [
        r.model_copy(update={"event_time": datetime.fromtimestamp(start + n * model.step_s, UTC)})
        for n, r in enumerate(own)
    ]


def test_a_channel_that_stops_arriving_stands_in_for_a_few_steps_then_its_readings_are_unusable_until_it_returns(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    """Filled with its last value for good, a broken probe's flat line read as a failure on healthy units."""
    monitor = SensorMonitor(tiny_model)
    own = _on_the_grid(tiny_model, readings)
    state = None
    for reading in own[: tiny_model.seq_len]:
        state, _ = monitor.process(state, reading)
    gone = "vibration"
    without = [r.model_copy(update={"values": {c: v for c, v in r.values.items() if c != gone}}) for r in own]
    judged = []
    for reading in without[tiny_model.seq_len : tiny_model.seq_len + tiny_model.lateness + 2]:
        before = state
        state, verdict = monitor.process(state, reading)
        judged.append(verdict.unusable)
        if verdict.unusable:
            assert state == before, "an unusable reading changes nothing"
    assert judged[: tiny_model.lateness] == [None] * tiny_model.lateness
    assert all(reason and f"not sent {gone} for" in reason for reason in judged[tiny_model.lateness :])
    back = own[tiny_model.seq_len + tiny_model.lateness + 2]
    _, verdict = monitor.process(state, back)
    assert verdict.unusable is None


def test_a_channel_a_device_never_sends_is_unusable_after_the_same_grace(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    monitor = SensorMonitor(tiny_model)
    own = _on_the_grid(tiny_model, readings)
    partial = [r.model_copy(update={"values": {"temperature": r.values["temperature"]}}) for r in own]
    state, verdicts = None, []
    for reading in partial[: tiny_model.lateness + 2]:
        state, verdict = monitor.process(state, reading)
        verdicts.append(verdict.unusable)
    assert verdicts[: tiny_model.lateness + 1] == [None] * (tiny_model.lateness + 1)
    assert verdicts[-1] is not None and "pressure" in verdicts[-1]


def test_during_warm_up_one_channel_beyond_the_range_the_trees_read_is_an_anomaly(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    """The trees clip inputs at 4 standard deviations and need most channels off: one channel at 50 read normal."""
    monitor = SensorMonitor(tiny_model)
    first = readings[0]
    channel = tiny_model.channels[0]
    regime = tiny_model.regime_index(first.operating_regime)
    far = float(tiny_model.regime_mean[regime, 0] + 50 * tiny_model.regime_std[regime, 0])
    spiked = first.model_copy(update={"values": {**first.values, channel: far}})

    _, verdict = monitor.process(None, spiked)

    assert (verdict.scorer, verdict.label, verdict.reasons[0][0]) == ("hst", "anomaly", channel)


def _judged(monitor: SensorMonitor, readings: list[SensorReading]) -> tuple[dict, list]:
    states: dict = {}
    verdicts = []
    for start in range(0, len(readings), 50):
        updated, batch = monitor.process_many(states, readings[start : start + 50])
        states.update(updated)
        verdicts.extend(batch)
    return states, verdicts


def test_a_device_whose_clock_drifts_past_half_a_step_gets_the_verdicts_of_one_on_an_exact_cadence(
    tiny_model: SensorModel,
) -> None:
    """With the phase fixed by the first reading, a device 0.5% slow had readings replace the one before or skip a
    slot once it sat near a half step from its grid: its window, and so its verdicts, differed. A gap it really has
    (three readings lost) still shows as one."""
    fleet = simulate(1, seed=11, days=0.25, healthy_share=1.0, missing_share=0.0)
    exact = [r for n, r in enumerate(fleet.readings()) if n not in range(200, 203)]
    lost = len(fleet.minute) - len(exact)
    drifting = [
        r.model_copy(update={"event_time": r.event_time + timedelta(seconds=0.003 * 60.0 * minute)})
        for r, minute in zip(exact, (m for m in fleet.minute.tolist() if m not in range(200, 203)), strict=True)
    ]
    assert drifting[-1].event_time - exact[-1].event_time > timedelta(seconds=40), "past half a step and the jitter"
    monitor = SensorMonitor(tiny_model)
    exact_states, exact_verdicts = _judged(monitor, exact)
    drift_states, drift_verdicts = _judged(monitor, drifting)
    assert drift_verdicts == exact_verdicts
    exact_window, drift_window = exact_states[exact[0].device_id]["w"], drift_states[exact[0].device_id]["w"]
    timing = ("ph", "at")
    assert {k: v for k, v in drift_window.items() if k not in timing} == {
        k: v for k, v in exact_window.items() if k not in timing
    }
    assert drift_window["n"] == len(fleet.minute) - lost
    assert sum(drift_verdicts[i].scorer == "lstm" for i in range(len(drifting))) > 200


def _without(model: SensorModel, readings: list[SensorReading], channel: str) -> list[SensorReading]:
    """The first device's readings on the grid, all lacking ``channel``, the first one moved to regime 0 (at its
    mean): the window's stand-in for ``channel`` is regime 0's mean, many deviations from regime 2's."""
    own = _on_the_grid(model, readings)
    assert {r.operating_regime for r in own[: 2 * model.seq_len]} == {2}
    first = own[0].model_copy(
        update={"values": dict(zip(model.channels, REGIME_LEVEL[0].tolist(), strict=True)), "operating_regime": 0}
    )
    return [
        r.model_copy(update={"values": {c: v for c, v in r.values.items() if c != channel}}) for r in [first, *own[1:]]
    ]


def test_during_warm_up_a_channel_the_device_never_sent_is_neither_cited_nor_an_anomaly(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    """Filled in at its first regime's mean, a never-sent vibration sat 14 deviations out in regime 2: the reading
    was an anomaly and its reasons quoted the stand-in as a measured vibration."""
    monitor = SensorMonitor(tiny_model)
    partial = _without(tiny_model, readings, "vibration")
    state = None
    for reading in partial[: tiny_model.lateness + 1]:
        state, verdict = monitor.process(state, reading)
        assert (verdict.scorer, verdict.label, verdict.unusable) == ("hst", "normal", None)
        assert "vibration" not in [name for name, _, _ in verdict.reasons] and len(verdict.reasons) == 2
    sent = partial[tiny_model.lateness + 1].model_copy(
        update={"values": {**partial[tiny_model.lateness + 1].values, "vibration": float(REGIME_LEVEL[0, 2])}}
    )
    _, verdict = monitor.process(state, sent)
    assert verdict.reasons[0][0] == "vibration" and verdict.label == "anomaly", "the same value, sent, is measured"


def test_a_warm_window_never_cites_a_channel_the_device_never_sent(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    """A model whose lateness spans its window lets a device lack a channel for a whole window; the LSTM's largest
    residual was then the stand-in's, quoted as a measured value."""
    model = dataclasses.replace(tiny_model, lateness=2 * tiny_model.seq_len)
    monitor = SensorMonitor(model)
    state = None
    verdicts = []
    for reading in _without(model, readings, "vibration")[: model.seq_len + 3]:
        state, verdict = monitor.process(state, reading)
        verdicts.append(verdict)
    warm = [v for v in verdicts if v.scorer == "lstm"]
    assert len(warm) == 4
    assert all(len(v.reasons) >= 2 and "vibration" not in [name for name, _, _ in v.reasons] for v in warm)
