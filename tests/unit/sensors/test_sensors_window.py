"""WindowKeeper: event-time slots on the device's phase, forward fill, late and too-late readings, filled-slot count,
bounded JSON-able state."""

import copy
import json
import random

import pytest

from streamsense.models.sensors.window import PHASE_GAIN, WindowKeeper

CHANNELS = ("a", "b")
FILL = [0.0, 0.0]


def _keeper() -> WindowKeeper:
    return WindowKeeper(CHANNELS, seq_len=4, step_s=60.0, lateness=2)


def _rows(flat: list[float]) -> list[list[float]]:
    return [flat[i : i + 2] for i in range(0, len(flat), 2)]


def test_in_order_readings_fill_consecutive_slots() -> None:
    keeper = _keeper()
    state = None
    for minute in range(6):
        state, placement = keeper.insert(state, minute * 60.0, {"a": minute, "b": -minute}, 0, FILL)
        assert placement.accepted and placement.behind == 0
    rows, regimes = keeper.window(state)
    assert _rows(rows) == [[2.0, -2.0], [3.0, -3.0], [4.0, -4.0], [5.0, -5.0]]
    assert regimes == [0, 0, 0, 0]
    assert state["n"] == 6


def test_missing_slots_are_forward_filled_from_the_previous_reading() -> None:
    keeper = _keeper()
    state, _ = keeper.insert(None, 0.0, {"a": 1.0, "b": 1.0}, 0, FILL)
    state, _ = keeper.insert(state, 180.0, {"a": 4.0, "b": 4.0}, 1, FILL)
    rows, regimes = keeper.window(state)
    assert _rows(rows) == [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [4.0, 4.0]]
    assert regimes == [0, 0, 0, 1]
    assert state["obs"][-4:] == [1, 0, 0, 1]


def test_late_reading_fills_its_slot_and_the_forward_filled_slots_after_it() -> None:
    keeper = _keeper()
    state, _ = keeper.insert(None, 0.0, {"a": 1.0, "b": 1.0}, 0, FILL)
    state, _ = keeper.insert(state, 180.0, {"a": 4.0, "b": 4.0}, 0, FILL)
    state, placement = keeper.insert(state, 65.0, {"a": 2.0, "b": 2.0}, 0, FILL)
    assert placement.accepted and placement.behind == 2
    rows, _ = keeper.window(state)
    assert _rows(rows) == [[1.0, 1.0], [2.0, 2.0], [2.0, 2.0], [4.0, 4.0]]
    assert state["slot"] == 3


def test_reading_later_than_the_allowed_lateness_is_dropped_and_state_unchanged() -> None:
    keeper = _keeper()
    state = None
    for minute in range(10):
        state, _ = keeper.insert(state, minute * 60.0, {"a": minute, "b": minute}, 0, FILL)
    before = copy.deepcopy(state)
    after, placement = keeper.insert(state, 5 * 60.0, {"a": 99.0, "b": 99.0}, 0, FILL)
    assert not placement.accepted and placement.behind == 4
    assert after == before


def test_partial_reading_keeps_the_previous_value_of_missing_channels() -> None:
    keeper = _keeper()
    state, _ = keeper.insert(None, 0.0, {"a": 1.0}, 0, [7.0, 8.0])
    state, _ = keeper.insert(state, 60.0, {"b": 2.0}, 0, FILL)
    rows, _ = keeper.window(state)
    assert _rows(rows)[-2:] == [[1.0, 8.0], [1.0, 2.0]]


def test_insert_does_not_mutate_the_given_state() -> None:
    keeper = _keeper()
    state, _ = keeper.insert(None, 0.0, {"a": 1.0, "b": 1.0}, 0, FILL)
    state, _ = keeper.insert(state, 120.0, {"a": 3.0, "b": 3.0}, 0, FILL)
    before = copy.deepcopy(state)
    keeper.insert(state, 60.0, {"a": 2.0, "b": 2.0}, 0, FILL)
    keeper.insert(state, 240.0, {"a": 5.0, "b": 5.0}, 0, FILL)
    assert state == before


def test_state_is_json_round_trippable_and_bounded_whatever_the_gap() -> None:
    keeper = _keeper()
    state = None
    for minute in [0, 1, 2, 500, 501, 10_000]:
        state, _ = keeper.insert(state, minute * 60.0, {"a": float(minute), "b": 0.5}, 1, FILL)
        assert len(state["vals"]) == keeper.size * len(CHANNELS)
        assert len(state["obs"]) == len(state["reg"]) == keeper.size
    assert json.loads(json.dumps(state)) == state
    rows, _ = keeper.window(state)
    assert _rows(rows)[-1] == [10_000.0, 0.5] and _rows(rows)[0] == [501.0, 0.5]


def test_readings_a_few_seconds_either_side_of_the_step_each_fill_their_own_slot() -> None:
    """On ``floor(t / step)`` slots a reading 5 s early shared the slot before with its predecessor and replaced it,
    and its own slot was forward filled: about a quarter of the simulator's readings (dated up to 10 s either side)."""
    keeper = _keeper()
    state = None
    for minute, jitter in enumerate([3.0, -5.0, 9.0, -10.0, 0.0, -2.0]):
        state, placement = keeper.insert(state, minute * 60.0 + jitter, {"a": minute, "b": 0.0}, 0, FILL)
        assert placement.accepted and placement.behind == 0 and placement.filled
    assert state["obs"] == [1] * keeper.size and state["n"] == 6
    assert [row[0] for row in _rows(keeper.window(state)[0])] == [2.0, 3.0, 4.0, 5.0]


def test_slots_follow_the_phase_of_the_windows_first_reading() -> None:
    """A device that reads at about half past the minute would straddle slot edges on a grid of whole minutes."""
    keeper = _keeper()
    state, _ = keeper.insert(None, 31.0, {"a": 0.0, "b": 0.0}, 0, FILL)
    assert state["ph"] == -29.0
    for minute, second in enumerate([29.0, 33.0, 28.0, 30.0], start=1):
        state, placement = keeper.insert(state, minute * 60.0 + second, {"a": minute, "b": 0.0}, 0, FILL)
        assert placement.behind == 0 and placement.filled
    assert state["obs"][-5:] == [1] * 5 and state["n"] == 5
    assert keeper.ends_at(state) == pytest.approx(4 * 60.0 + 31.0 + 30.0, abs=1.0), "the phase follows the readings"
    assert keeper.ahead(state, 5 * 60.0 + 20.0) == 1 and keeper.ahead(state, 2 * 60.0 + 40.0) == -2


def test_a_second_reading_for_a_filled_slot_replaces_it_without_counting_as_one_more_filled_slot() -> None:
    """Counted as readings, a producer's retries made a device warm (scored by the LSTM) before its window held
    ``seq_len`` minutes of readings."""
    keeper = _keeper()
    state, _ = keeper.insert(None, 0.0, {"a": 1.0, "b": 1.0}, 0, FILL)
    state, _ = keeper.insert(state, 120.0, {"a": 3.0, "b": 3.0}, 0, FILL)
    state, placement = keeper.insert(state, 125.0, {"a": 4.0, "b": 4.0}, 0, FILL)
    assert placement.accepted and placement.behind == 0 and not placement.filled
    assert state["n"] == 2 and _rows(keeper.window(state)[0])[-1] == [4.0, 4.0]
    state, placement = keeper.insert(state, 60.0, {"a": 2.0, "b": 2.0}, 0, FILL)
    assert placement.behind == 1 and placement.filled and state["n"] == 3, "a late reading fills a slot"
    state, placement = keeper.insert(state, 58.0, {"a": 2.5, "b": 2.5}, 0, FILL)
    assert placement.behind == 1 and not placement.filled and state["n"] == 3


def test_a_window_stored_without_a_phase_reads_as_phase_zero_then_follows_the_device() -> None:
    """Stored before ``ph`` and ``at`` existed: the next reading tells when the newest slot was last read, and the
    one after it, a step later, moves the phase."""
    keeper = _keeper()
    state, _ = keeper.insert(None, 0.0, {"a": 1.0, "b": 1.0}, 0, FILL)
    legacy = {k: v for k, v in state.items() if k not in ("ph", "at")}
    assert keeper.ends_at(legacy) == 30.0
    later, placement = keeper.insert(legacy, 55.0, {"a": 2.0, "b": 2.0}, 0, FILL)
    assert placement.behind == 0 and later["slot"] == 1 and later["ph"] == 0.0 and later["at"] == 55.0
    later, placement = keeper.insert(later, 115.0, {"a": 3.0, "b": 3.0}, 0, FILL)
    assert placement.behind == 0 and later["slot"] == 2 and later["ph"] == -5.0 * PHASE_GAIN


def test_only_a_reading_filling_the_next_slot_about_a_step_after_the_newest_slots_latest_reading_moves_the_phase() -> (
    None
):
    keeper = _keeper()
    state, _ = keeper.insert(None, 0.0, {"a": 0.0, "b": 0.0}, 0, FILL)
    state, _ = keeper.insert(state, 20.0, {"a": 1.0, "b": 0.0}, 0, FILL)
    assert state["at"] == 20.0 and state["ph"] == 0.0, "a second reading in the newest slot moves no phase"
    state, _ = keeper.insert(state, 50.0, {"a": 2.0, "b": 0.0}, 0, FILL)
    assert state["slot"] == 1 and state["ph"] == 0.0, "30 s after the newest slot's latest reading"
    state, _ = keeper.insert(state, 170.0, {"a": 3.0, "b": 0.0}, 0, FILL)
    assert state["slot"] == 3 and state["ph"] == 0.0, "a skipped slot"
    state, placement = keeper.insert(state, 115.0, {"a": 4.0, "b": 0.0}, 0, FILL)
    assert placement.behind == 1 and placement.filled and state["ph"] == 0.0 and state["at"] == 170.0, "a late one"
    state, _ = keeper.insert(state, 235.0, {"a": 5.0, "b": 0.0}, 0, FILL)
    assert state["slot"] == 4 and state["ph"] == -5.0 * PHASE_GAIN and state["at"] == 235.0


@pytest.mark.parametrize("cadence_s", [20.0, 15.0, 10.0])
def test_a_device_reading_several_times_a_step_keeps_its_phase_and_spans_one_slot_a_step(cadence_s: float) -> None:
    """When each new slot moved the phase toward its first reading, always the step's earliest, the phase ran a step
    earlier every hour or so, and a day of readings spanned dozens of slots more than its minutes."""
    keeper = _keeper()
    rng = random.Random(1)
    start = 1_700_000_020.0
    state, _ = keeper.insert(None, start, {"a": 0.0, "b": 0.0}, 0, FILL)
    first_slot, first_phase, drift = state["slot"], state["ph"], 0.0
    for n in range(1, int(86_400 / cadence_s)):
        state, _ = keeper.insert(state, start + n * cadence_s + rng.uniform(-2.0, 2.0), {"a": n}, 0, FILL)
        drift = max(drift, abs(state["ph"] - first_phase))
    assert drift < 3.0
    assert 1_439 <= state["slot"] - first_slot + 1 <= 1_441


def test_heavy_jitter_does_not_run_the_phase_away() -> None:
    """Readings up to 25 s either side of the step: when every new slot moved the phase, a collision kept the earlier
    reading's pull and dropped the later's: three days spanned up to 4 slots more than their minutes, and the phase
    sat more than 18 s off the device's for 1% of the readings."""
    keeper = _keeper()
    start = 1_700_000_000.0
    assert keeper.phase_of(start) == 20.0
    for seed in range(4):
        rng = random.Random(seed)
        state, _ = keeper.insert(None, start + rng.uniform(-25.0, 25.0), {"a": 0.0, "b": 0.0}, 0, FILL)
        first_slot, off = state["slot"], []
        for n in range(1, 3 * 1_440):
            state, _ = keeper.insert(state, start + n * 60.0 + rng.uniform(-25.0, 25.0), {"a": n}, 0, FILL)
            off.append(abs((state["ph"] - 20.0 + 30.0) % 60.0 - 30.0))
        assert state["slot"] - first_slot + 1 == 3 * 1_440
        assert sorted(off[100:])[int(0.99 * len(off[100:]))] < 18.0, "99% of the time within 18 s of the device's"


def _drifting(keeper: WindowKeeper, cadence_s: float, readings: int, skip: range = range(0)) -> list[tuple]:
    """Readings ``cadence_s`` apart, each up to 10 s either side (as the simulator's), but those in ``skip``; returns
    (reading, slots it moved the newest ahead, placement) per reading after the first."""
    rng = random.Random(0)
    jitter = [rng.uniform(-10.0, 10.0) for _ in range(readings)]
    state, _ = keeper.insert(None, 1_700_000_000.0 + jitter[0], {"a": 0.0, "b": 0.0}, 0, FILL)
    placed = []
    for n in range(1, readings):
        if n in skip:
            continue
        newest = state["slot"]
        state, placement = keeper.insert(state, 1_700_000_000.0 + n * cadence_s + jitter[n], {"a": n, "b": 0}, 0, FILL)
        placed.append((n, state["slot"] - newest, placement))
    return placed


@pytest.mark.parametrize(
    ("cadence_s", "readings"),
    [(60.3, 600), (59.7, 600), (60.0 + 5 / 1440, 12_000), (60.0 - 5 / 1440, 12_000)],
    ids=["0.5%-slow", "0.5%-fast", "5-s-a-day-slow", "5-s-a-day-fast"],
)
def test_a_device_whose_clock_drifts_past_half_a_step_fills_one_new_slot_per_reading(
    cadence_s: float, readings: int
) -> None:
    """With the phase fixed by the first reading, such a device's readings replaced the one before or skipped a slot
    while they sat near a half step from its grid: for days at a few seconds a day."""
    assert abs(cadence_s - 60.0) * readings > 40.0, "the clock drifts past half a step plus the jitter"
    placed = _drifting(_keeper(), cadence_s, readings)
    assert all(p.accepted and p.behind == 0 and p.filled and moved == 1 for _, moved, p in placed)


def test_a_window_stored_at_phase_zero_for_a_device_reading_at_half_past_settles_on_the_devices_grid() -> None:
    """Fixed at phase 0, such a device's readings straddled slot edges for as long as its window lived."""
    keeper = _keeper()
    start = 1_700_000_010.0
    assert start % 60.0 == 30.0
    state, _ = keeper.insert(None, start, {"a": 0.0, "b": 0.0}, 0, FILL)
    state = {**{k: v for k, v in state.items() if k != "ph"}, "slot": keeper.slot_of(start, 0.0)}
    rng = random.Random(2)
    regular = []
    for n in range(1, 500):
        newest = state["slot"]
        state, placement = keeper.insert(state, start + n * 60.0 + rng.uniform(-10.0, 10.0), {"a": n}, 0, FILL)
        regular.append(placement.behind == 0 and placement.filled and state["slot"] - newest == 1)
    assert all(regular[20:]) and abs(abs(state["ph"]) - 30.0) < 5.0


def test_a_drifting_device_that_misses_readings_still_shows_its_gap() -> None:
    keeper = _keeper()
    placed = _drifting(keeper, 60.3, 300, skip=range(150, 153))
    moved = {n: m for n, m, _ in placed}
    assert moved[153] == 4 and all(m == 1 for n, m in moved.items() if n != 153)


def test_a_channel_the_window_began_without_is_a_stand_in_until_the_device_sends_it() -> None:
    """Stand-ins (its first regime's mean) were quoted as measured values in a verdict's reasons."""
    keeper = _keeper()
    state, _ = keeper.insert(None, 0.0, {"a": 1.0}, 0, [7.0, 8.0])
    assert keeper.stand_ins(state, 0, {"a": 1.0}) == (1,)
    state, _ = keeper.insert(state, 60.0, {"a": 2.0}, 0, FILL)
    assert keeper.stand_ins(state, 0, {"a": 2.0}) == (1,)
    state, _ = keeper.insert(state, 120.0, {"a": 3.0, "b": 4.0}, 0, FILL)
    assert keeper.stand_ins(state, 0, {"a": 3.0, "b": 4.0}) == ()
    state, _ = keeper.insert(state, 180.0, {"a": 5.0}, 0, FILL)
    assert keeper.stand_ins(state, 0, {"a": 5.0}) == (), "forward filled from a value the device sent"
    late, placement = keeper.insert(state, 61.0, {"a": 2.5}, 0, FILL)
    assert placement.behind == 2 and keeper.stand_ins(late, 2, {"a": 2.5}) == (1,), "its row holds the stand-in"
    for minute in range(4, 4 + keeper.lateness):
        state, _ = keeper.insert(state, minute * 60.0, {"a": 1.0, "b": 1.0}, 0, FILL)
    assert "since" not in state, "no late reading can land on a stand-in any more"


def test_a_channel_sent_first_by_a_late_reading_stays_a_stand_in_in_the_rows_after_a_later_reading() -> None:
    keeper = _keeper()
    state, _ = keeper.insert(None, 0.0, {"a": 1.0}, 0, FILL)
    state, _ = keeper.insert(state, 120.0, {"a": 3.0}, 0, FILL)
    state, _ = keeper.insert(state, 60.0, {"a": 2.0, "b": 2.0}, 0, FILL)
    assert keeper.stand_ins(state, 1, {"a": 2.0, "b": 2.0}) == ()
    assert keeper.stand_ins(state, 0, {"a": 3.0}) == (1,), "the newest row still holds the stand-in"
    assert _rows(keeper.window(state)[0])[-1] == [3.0, 0.0]


def test_a_window_whose_first_reading_has_every_channel_stores_no_stand_ins() -> None:
    keeper = _keeper()
    state, _ = keeper.insert(None, 0.0, {"a": 1.0, "b": 1.0}, 0, FILL)
    assert "since" not in state and keeper.stand_ins(state, 0, {"a": 1.0}) == ()
