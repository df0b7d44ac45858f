"""A device's readings that may come again, and what was decided for each, kept in its table entry.

Delivery is at-least-once: after a crash, or when the worker drops its batches in flight because Elasticsearch
failed, the readings not committed yet come again, to a table that already holds their effect. Until stop 36 each
was applied a second time: a reading counted twice toward the warning latch's consecutive readings (a unit warned 17
minutes early), in the adaptive threshold, and a replayed batch's readings were judged late against the window they
had themselves advanced, their decisions overwritten in Elasticsearch as ``dropped``. A reading at or before the
entry's last offset on its partition is a replay: it gets the verdict it got the first time (its numbers to six
significant digits) and changes nothing.

Verdicts are kept for the readings whose offset is not committed yet, at most ``RECENT_READINGS`` per device; a replay
older than those (a consumer group moved back by hand, or more readings of one device in flight than that) is judged
again from the device's current state, which it leaves as it is.
"""

from collections.abc import Mapping, Sequence
from typing import Any, get_args

from streamsense.models.sensors.monitor import DeviceState, Label, Scorer, SensorMonitor, SensorVerdict, gc_paused
from streamsense.schemas.sensors import SensorReading

Position = tuple[int, int, int | None]
"""Where a reading was read: its partition, its offset, and that partition's committed offset (None before one)."""

RECENT_READINGS = 64
"""A device reads once a step (a minute for the simulated fleet): far fewer of its readings are in flight at once."""


def replayed(state: DeviceState | None, partition: int, offset: int) -> bool:
    """Whether the reading at ``offset`` of ``partition`` was applied to ``state`` already."""
    return bool(state) and state.get("p") == partition and offset <= state.get("o", -1)


def recalled(state: DeviceState, offset: int) -> SensorVerdict | None:
    """The verdict the reading at ``offset`` got when it was applied, if it is still kept."""
    for seen, row in state.get("recent", ()):
        if seen == offset:
            return verdict_from_row(row)
    return None


def remembered(
    state: DeviceState, partition: int, applied: Sequence[tuple[int, SensorVerdict]], committed: int | None
) -> DeviceState:
    """``state`` once the readings ``applied`` (offset and verdict, in order) of ``partition`` were applied;
    ``committed`` is the partition's committed offset (the next to consume), before which nothing comes again."""
    kept = [
        entry
        for entry in (state.get("recent", ()) if state.get("p") == partition else ())
        if committed is None or entry[0] >= committed
    ]
    kept += [[offset, verdict_row(verdict)] for offset, verdict in applied]
    return {**state, "p": partition, "o": applied[-1][0], "recent": kept[-RECENT_READINGS:]}


def judge(
    monitor: SensorMonitor,
    known: Mapping[str, DeviceState | None],
    readings: Sequence[SensorReading],
    positions: Sequence[Position],
) -> tuple[dict[str, DeviceState], list[SensorVerdict]]:
    """``monitor.process_many`` for a batch that may hold replays: the state to store for every device of the
    batch (one whose readings were all replays: as it was), and one verdict per reading."""
    with gc_paused():
        verdicts: dict[int, SensorVerdict] = {}
        fresh = []
        for i, (reading, (partition, offset, _)) in enumerate(zip(readings, positions, strict=True)):
            state = known.get(reading.device_id)
            if not replayed(state, partition, offset):
                fresh.append(i)
                continue
            verdict = recalled(state, offset)
            if verdict is None:  # older than the verdicts kept: judged again, and the state left as it is
                verdict = monitor.process_many({reading.device_id: state}, [reading])[1][0]
            verdicts[i] = verdict
        states, judged = ({}, [])
        if fresh:
            states, judged = monitor.process_many({d: s for d, s in known.items() if s}, [readings[i] for i in fresh])
        applied: dict[str, list[int]] = {}
        for i, verdict in zip(fresh, judged, strict=True):
            verdicts[i] = verdict
            applied.setdefault(readings[i].device_id, []).append(i)
        out = {device: state or {} for device, state in known.items()}
        for device, indices in applied.items():
            book = out[device]
            partition, _, committed = positions[indices[-1]]
            book = remembered(book, partition, [(positions[i][1], verdicts[i]) for i in indices], committed)
            out[device] = {**states[device], "p": book["p"], "o": book["o"], "recent": book["recent"]}
        return out, [verdicts[i] for i in range(len(readings))]


LABELS, SCORERS = get_args(Label), get_args(Scorer)


def _short(x: float | None) -> float | None:
    """Six significant digits: a device's entry holds a verdict per reading in flight, rewritten with each of them."""
    return None if x is None else float(f"{x:.6g}")


def verdict_row(verdict: SensorVerdict) -> list[Any]:
    """A verdict as a short JSON-able row, as the table's changelog stores it (numbers to six significant digits)."""
    return [
        LABELS.index(verdict.label),
        _short(verdict.score),
        _short(verdict.threshold),
        _short(verdict.failure_probability),
        _short(verdict.minutes_to_failure),
        SCORERS.index(verdict.scorer),
        [[name, _short(value), _short(contribution)] for name, value, contribution in verdict.reasons],
        verdict.unusable,
    ]


def verdict_from_row(row: list[Any]) -> SensorVerdict:
    label, score, threshold, probability, minutes, scorer, reasons, unusable = row
    return SensorVerdict(
        LABELS[label], score, threshold, probability, minutes, SCORERS[scorer], [tuple(r) for r in reasons], unusable
    )
