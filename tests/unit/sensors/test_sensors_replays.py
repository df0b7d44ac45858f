"""A reading delivered again gets the verdict it got the first time and leaves the device's state as it is."""

import json
from datetime import timedelta

import pytest

from streamsense.datasets.degradation import simulate
from streamsense.models.sensors.artifact import SensorModel
from streamsense.models.sensors.monitor import SensorMonitor, SensorVerdict
from streamsense.models.sensors.replays import RECENT_READINGS, judge, recalled, remembered, replayed
from streamsense.schemas.sensors import SensorReading

WARNED = SensorVerdict("failure_warning", 2.5, 3.0, 0.7, 41.0, "lstm", [("vibration", 1.5, 2.1)])


def test_a_reading_at_or_before_the_last_applied_offset_of_its_partition_is_a_replay() -> None:
    state = remembered({}, 3, [(40, WARNED)], None)
    assert replayed(state, 3, 40) and replayed(state, 3, 12)
    assert not replayed(state, 3, 41)
    assert not replayed(state, 4, 12), "another partition's offsets say nothing of this one's"
    assert not replayed(None, 3, 1) and not replayed({}, 3, 1)


def test_a_replay_gets_its_first_verdict_back_after_the_state_went_through_the_changelog() -> None:
    state = remembered(
        remembered({}, 0, [(7, WARNED)], None), 0, [(8, SensorVerdict("normal", 0.1, 3.0, None, None, "hst"))], 7
    )
    stored = json.loads(json.dumps(state))
    assert recalled(stored, 7) == WARNED
    assert recalled(stored, 8).label == "normal"
    assert recalled(stored, 5) is None


def test_verdicts_of_committed_readings_are_let_go_and_at_most_the_recent_ones_kept() -> None:
    state: dict = {}
    for offset in range(10):
        state = remembered(state, 0, [(offset, WARNED)], 6)
    assert [offset for offset, _ in state["recent"]] == [6, 7, 8, 9]
    for offset in range(10, 10 + 2 * RECENT_READINGS):
        state = remembered(state, 0, [(offset, WARNED)], None)
    assert len(state["recent"]) == RECENT_READINGS and state["o"] == 9 + 2 * RECENT_READINGS


def test_a_device_moved_to_another_partition_keeps_no_verdict_of_the_old_one() -> None:
    state = remembered(remembered({}, 0, [(7, WARNED)], None), 5, [(2, WARNED)], None)
    assert [offset for offset, _ in state["recent"]] == [2] and state["p"] == 5


@pytest.fixture(scope="module")
def readings() -> list[SensorReading]:
    return list(simulate(2, seed=5, days=0.03, healthy_share=0.0, missing_share=0.0).readings())


def _judged_in_batches(
    monitor: SensorMonitor, stored: dict, readings: list[SensorReading], first_offset: int, size: int
) -> list[SensorVerdict]:
    """Batches as the agent gives them: the table's states in, the states to store out, through JSON."""
    verdicts = []
    for start in range(0, len(readings), size):
        batch = readings[start : start + size]
        positions = [(0, first_offset + start + n, None) for n in range(len(batch))]
        known = {r.device_id: json.loads(stored[r.device_id]) if r.device_id in stored else None for r in batch}
        states, got = judge(monitor, known, batch, positions)
        stored.update({device: json.dumps(state) for device, state in states.items()})
        verdicts += got
    return verdicts


def test_a_batch_delivered_again_is_decided_as_the_first_time_and_leaves_every_device_as_it_was(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    """Applied twice, a replayed reading counted twice toward the warning latch and its batch read as late."""
    monitor = SensorMonitor(tiny_model)
    stored: dict = {}
    first = _judged_in_batches(monitor, stored, readings, 0, 5)
    before = dict(stored)
    again = _judged_in_batches(monitor, stored, readings[-12:], len(readings) - 12, 5)
    assert [(v.label, v.scorer, v.unusable) for v in again] == [(v.label, v.scorer, v.unusable) for v in first[-12:]]
    assert [v.score for v in again] == pytest.approx([v.score for v in first[-12:]], rel=1e-5)
    assert {d: json.loads(s)["w"] for d, s in stored.items()} == {d: json.loads(s)["w"] for d, s in before.items()}
    assert {d: json.loads(s).get("warn") for d, s in stored.items()} == {
        d: json.loads(s).get("warn") for d, s in before.items()
    }


def test_a_replay_older_than_the_kept_verdicts_is_judged_again_without_changing_the_state(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    monitor = SensorMonitor(tiny_model)
    stored: dict = {}
    _judged_in_batches(monitor, stored, readings, 0, 5)
    device = readings[-1].device_id
    state = json.loads(stored[device])
    states, [verdict] = judge(monitor, {device: state}, [readings[-1]], [(0, -1, None)])
    assert verdict.label in {"normal", "anomaly", "failure_warning"}
    assert states[device] == state


def test_a_too_old_reading_delivered_again_is_refused_again_without_counting_twice_toward_a_clock_step(
    tiny_model: SensorModel, readings: list[SensorReading]
) -> None:
    """A refused reading changes the device's count of too-old readings in a row; its replay must not step it."""
    monitor = SensorMonitor(tiny_model)
    own = [r for r in readings if r.device_id == readings[0].device_id][: tiny_model.seq_len + 2]
    stored: dict = {}
    _judged_in_batches(monitor, stored, own, 0, 5)
    device = own[0].device_id
    stray = own[0].model_copy(update={"event_id": "stray", "event_time": own[0].event_time - timedelta(hours=1)})
    position = [(0, len(own), None)]
    once, [first] = judge(monitor, {device: json.loads(stored[device])}, [stray], position)
    again, [second] = judge(monitor, {device: json.loads(json.dumps(once[device]))}, [stray], position)
    assert first.unusable and "too old" in first.unusable and second == first
    assert once[device]["back"] == again[device]["back"] == 1
    assert again[device]["w"] == json.loads(stored[device])["w"]
