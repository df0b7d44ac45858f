"""Per-device window of the latest readings on an event-time grid, kept as a small JSON-able dict.

Slots follow the device's own phase: slot ``k`` is centred on ``k * step + ph`` and a reading goes to the nearest
slot ``round((event_time - ph) / step)``, so a device that reads once a step, each reading a few seconds either side
of its usual second, fills one slot per reading, as the one-minute grid the model was trained on does (``series.py``).
The window's first reading sets ``ph`` (its offset from the nearest multiple of the step), and a reading that fills
the slot right after the newest, about one step after the newest slot's latest reading (``at``), moves it
``PHASE_GAIN`` of the way to itself, so the grid follows a device whose clock drifts. Only such a reading shows where
a device that reads once a step sits on its grid. When every reading filling a slot moved the phase, a device reading
every 20 s, whose first reading in each slot is its earliest of the step, pulled the phase a step earlier about every
25 minutes (the window spanning dozens of slots a day more than its minutes), and under jitter of nearly half a
step a collision kept the earlier reading's pull and dropped the later one's, so the phase ran off a slot at a time
the same way. A device reading more often than every 45 s keeps its first
reading's phase, where every slot gets a reading anyway, and a late reading moves no phase (its neighbours' times are
not kept). Until stop 39 the first reading fixed it: a device a few seconds a day off the step slid off its grid, and
while its readings sat near a half step from it (days, at a few seconds a day) many landed in a slot already taken,
replacing the reading before, or skipped one, a forward-filled row, until the device started over. Until stop 38
slots were ``floor(event_time / step)``: the simulator's readings, dated up to 10 s either side of the minute,
overwrote the slot before in about a quarter of cases. A window stored before ``ph`` existed starts at phase 0, and
one stored before ``at`` existed follows the device from its next reading on.

A reading for a newer slot advances the window and forward fills the slots it skipped; a second reading for the
newest slot replaces it; a late reading (at most ``lateness`` slots behind the newest) fills its slot and the
forward-filled slots after it; an older one is dropped. ``n`` counts the slots filled, not the readings, so readings
sent twice do not make a device warm early. The dict never holds more than ``size`` rows, so a Faust table entry
stays bounded whatever the device sends.

A channel a reading lacks keeps its previous value, but only for ``lateness`` slots: ``stale`` names the channels a
reading lacks that the device has not sent for longer (counted from its first reading for one it never sent). Until
stop 36 a channel that stopped arriving (a broken probe) was filled with its last value for good, and the flat line
made healthy units read as failing and hid a failing unit's trend, with the stale value quoted as measured.

A channel the window's first reading lacks starts as a stand-in (``fill``, e.g. its regime mean) that the device never
sent; ``since`` (absent when there is none) records, for such a channel, the slot from which the rows carry a value
the device sent (None while the newest row still holds the stand-in), kept until no late reading can land before it.
``stand_ins`` tells which of a row's values are only stand-ins, so that a verdict never quotes one as measured.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WindowState = dict[str, Any]
PHASE_GAIN = 0.125
"""How far a reading that moves the phase moves it toward itself: a device's jitter (the simulator's: up to 10 s
either side) moves the phase about a second and a half (one standard deviation), and the phase trails a drift of
``d`` seconds a reading by ``d / PHASE_GAIN``: a clock 0.5% slow (0.3 s a minute) by 2.4 s, a few seconds a day by
a few hundredths of a second."""
CADENCE_TOLERANCE = 0.25
"""How far (in steps) from one step after the newest slot's latest reading a reading filling the next slot may come
and still move the phase: the simulator's jitter (up to 10 s either side of the minute) leaves 15 of 16 gaps within
15 s of a minute, and a device reading more often than every 45 s never moves it."""


@dataclass(frozen=True)
class Placement:
    """Where a reading went: ``accepted`` False when it was too late; ``behind`` slots behind the newest one;
    ``filled`` whether its slot held no reading before (False for a reading that replaces one)."""

    accepted: bool
    behind: int
    filled: bool = True


class WindowKeeper:
    """Inserts readings into a window state by event time; pure (returns a new state, never mutates the old one)."""

    def __init__(self, channels: Sequence[str], seq_len: int, step_s: float, lateness: int = 5) -> None:
        self.channels = tuple(channels)
        self.seq_len = seq_len
        self.step_s = step_s
        self.lateness = lateness
        self.size = seq_len + lateness
        self.cadence_s = CADENCE_TOLERANCE * step_s

    def phase_of(self, epoch_s: float) -> float:
        """``epoch_s``'s offset from the nearest multiple of the step, in [-step/2, step/2): a new window's phase."""
        return epoch_s - math.floor(epoch_s / self.step_s + 0.5) * self.step_s

    def slot_of(self, epoch_s: float, phase: float) -> int:
        """The nearest slot to ``epoch_s`` on the grid of ``phase``."""
        return math.floor((epoch_s - phase) / self.step_s + 0.5)

    def ahead(self, state: WindowState, epoch_s: float) -> int:
        """How many slots a reading at ``epoch_s`` is ahead of the window's newest (negative: behind it)."""
        return self.slot_of(epoch_s, state.get("ph", 0.0)) - state["slot"]

    def stale(self, state: WindowState, epoch_s: float, values: Mapping[str, float]) -> dict[str, float]:
        """The channels ``values`` lacks that the device last sent more than ``lateness`` slots before ``epoch_s``,
        with the seconds since."""
        slot = self.slot_of(epoch_s, state.get("ph", 0.0))
        seen = state.get("seen") or [state["slot"]] * len(self.channels)
        return {
            c: (slot - last) * self.step_s
            for c, last in zip(self.channels, seen, strict=True)
            if c not in values and slot - last > self.lateness
        }

    def _seen(self, seen: list[int], slot: int, values: Mapping[str, float]) -> list[int]:
        return [max(last, slot) if c in values else last for c, last in zip(self.channels, seen, strict=True)]

    def ends_at(self, state: WindowState) -> float:
        """The end (epoch seconds) of the window's newest slot: no reading it holds is later."""
        return (state["slot"] + 0.5) * self.step_s + state.get("ph", 0.0)

    def _follow(self, state: WindowState, phase: float, epoch_s: float, slot: int) -> float:
        """The phase moved toward a reading at ``epoch_s`` placed in ``slot`` if the reading fills the slot after the
        newest about one step after the newest slot's latest reading, else ``phase``. The offset from the slot's
        centre is within half a step, so a reading just past a slot's edge pulls the phase toward the slot it went to
        (the wrap), and a device half a step off its grid (a window stored at phase 0) drifts off that unstable point.
        Rounded to the millisecond to keep the stored state short."""
        last = state.get("at")
        if slot != state["slot"] + 1 or last is None or abs(epoch_s - last - self.step_s) > self.cadence_s:
            return phase
        return round(phase + PHASE_GAIN * (epoch_s - slot * self.step_s - phase), 3)

    def _since(self, state: WindowState, values: Mapping[str, float], slot: int, to_newest: bool) -> WindowState:
        """``state`` (a new dict, changed in place) with ``since`` updated for a reading placed in ``slot``, whose row
        reached the newest slot (``to_newest``), and pruned of the channels no late reading can find a stand-in for."""
        since = state.get("since")
        if not since:
            return state
        oldest_late = state["slot"] - self.lateness
        kept = {}
        for channel, first in since.items():
            if to_newest and channel in values:
                first = slot if first is None else min(first, slot)
            if first is None or first > oldest_late:
                kept[channel] = first
        if kept:
            state["since"] = kept
        else:
            del state["since"]
        return state

    def stand_ins(self, state: WindowState, behind: int, values: Mapping[str, float]) -> tuple[int, ...]:
        """The indices of the channels whose value in the row ``behind`` slots before the newest, that of a reading
        carrying ``values``, is a stand-in the device never sent (the window's first reading lacked it and no reading
        carried it up to that row)."""
        since = state.get("since")
        if not since:
            return ()
        slot = state["slot"] - behind
        return tuple(
            j
            for j, c in enumerate(self.channels)
            if c in since and c not in values and (since[c] is None or since[c] > slot)
        )

    def _row(self, values: Mapping[str, float], previous: list[float]) -> list[float]:
        """Channels absent from a reading keep the previous value (the forward fill of a partial reading)."""
        return [float(values.get(c, previous[j])) for j, c in enumerate(self.channels)]

    def insert(
        self, state: WindowState | None, epoch_s: float, values: Mapping[str, float], regime: int, fill: list[float]
    ) -> tuple[WindowState, Placement]:
        """Place one reading; ``fill`` stands in for channels never seen yet on this device (e.g. regime means).

        ``vals`` is flat (``size`` rows of ``len(channels)`` floats, oldest first) so that a batch of windows turns
        into one array cheaply; ``obs`` marks slots that hold a reading (0: forward filled); ``reg`` is the regime;
        ``ph`` the phase of the slots; ``at`` the time of the newest slot's latest reading (to the millisecond).
        """
        width = len(self.channels)
        if not state:
            phase = self.phase_of(epoch_s)
            slot = self.slot_of(epoch_s, phase)
            row = self._row(values, fill)
            started = {
                "slot": slot,
                "ph": phase,
                "at": round(epoch_s, 3),
                "vals": row * self.size,
                "obs": [0] * (self.size - 1) + [1],
                "reg": [regime] * self.size,
                "n": 1,
                "seen": [slot] * width,
            }
            unsent = {c: None for c in self.channels if c not in values}
            return ({**started, "since": unsent} if unsent else started), Placement(True, 0)
        phase = state.get("ph", 0.0)
        slot = self.slot_of(epoch_s, phase)
        newest = state["slot"]
        seen = self._seen(state.get("seen") or [newest] * width, slot, values)
        vals: list[float] = state["vals"]
        if slot > newest:
            gap = min(slot - newest, self.size)
            last = vals[-width:]
            row = self._row(values, last)
            drop = gap * width
            new_vals = vals[drop:] + last * (gap - 1) + row
            new_obs = state["obs"][gap:] + [0] * (gap - 1) + [1]
            new_reg = state["reg"][gap:] + [state["reg"][-1]] * (gap - 1) + [regime]
            advanced = {"slot": slot, "vals": new_vals, "obs": new_obs, "reg": new_reg, "n": state["n"] + 1}
            follow = {"ph": self._follow(state, phase, epoch_s, slot), "at": round(epoch_s, 3)}
            moved = {**state, **advanced, "seen": seen, **follow}
            return (self._since(moved, values, slot, True) if "since" in moved else moved), Placement(True, 0)
        behind = newest - slot
        if behind > self.lateness:
            return state, Placement(False, behind)
        idx = self.size - 1 - behind
        new_vals = list(vals)
        new_obs = list(state["obs"])
        new_reg = list(state["reg"])
        row = self._row(values, vals[idx * width : (idx + 1) * width])
        j = idx
        while j < self.size and (j == idx or not new_obs[j]):
            new_vals[j * width : (j + 1) * width] = row
            new_reg[j] = regime
            j += 1
        empty = not new_obs[idx]
        new_obs[idx] = 1
        filled = {"vals": new_vals, "obs": new_obs, "reg": new_reg, "n": state["n"] + int(empty), "seen": seen}
        if not behind:  # the newest slot's latest reading: a device reading again within the step moves no phase
            filled["at"] = max(state.get("at", epoch_s), round(epoch_s, 3))
        return self._since({**state, **filled}, values, slot, j == self.size), Placement(True, behind, empty)

    def window(self, state: WindowState, behind: int = 0) -> tuple[list[float], list[int]]:
        """The ``seq_len`` rows (flat) and regimes that end at the slot ``behind`` slots before the newest."""
        end = self.size - behind
        width = len(self.channels)
        return state["vals"][(end - self.seq_len) * width : end * width], state["reg"][end - self.seq_len : end]
