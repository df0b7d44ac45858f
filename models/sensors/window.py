"""Per-device window of the latest readings on an event-time grid, kept as a small JSON-able dict.

Readings are placed in slots ``floor(event_time / step)``. A reading for a newer slot advances the window and forward
fills the slots it skipped; a second reading for the newest slot replaces it; a late reading (at most ``lateness``
slots behind the newest) fills its slot and the forward-filled slots after it; an older one is dropped. The dict
never holds more than ``size`` rows, so a Faust table entry stays bounded whatever the device sends.

A channel a reading lacks keeps its previous value, but only for ``lateness`` slots: ``stale`` names the channels a
reading lacks that the device has not sent for longer (counted from its first reading for one it never sent). Until
stop 36 a channel that stopped arriving (a broken probe) was filled with its last value for good, and the flat line
made healthy units read as failing and hid a failing unit's trend, with the stale value quoted as measured.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WindowState = dict[str, Any]


@dataclass(frozen=True)
class Placement:
    """Where a reading went: ``accepted`` False when it was too late; ``behind`` slots behind the newest one."""

    accepted: bool
    behind: int


class WindowKeeper:
    """Inserts readings into a window state by event time; pure (returns a new state, never mutates the old one)."""

    def __init__(self, channels: Sequence[str], seq_len: int, step_s: float, lateness: int = 5) -> None:
        self.channels = tuple(channels)
        self.seq_len = seq_len
        self.step_s = step_s
        self.lateness = lateness
        self.size = seq_len + lateness

    def slot_of(self, epoch_s: float) -> int:
        return int(epoch_s // self.step_s)

    def outside(self, state: WindowState, epoch_s: float) -> bool:
        """Whether a reading at ``epoch_s`` shares no slot with the window's ``seq_len`` newest: it would be judged on
        forward-filled rows alone, or is older than all of them (not a late reading: the device's clock moved)."""
        return abs(self.slot_of(epoch_s) - state["slot"]) >= self.seq_len

    def stale(self, state: WindowState, epoch_s: float, values: Mapping[str, float]) -> dict[str, float]:
        """The channels ``values`` lacks that the device last sent more than ``lateness`` slots before ``epoch_s``,
        with the seconds since."""
        slot = self.slot_of(epoch_s)
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
        return (state["slot"] + 1) * self.step_s

    def _row(self, values: Mapping[str, float], previous: list[float]) -> list[float]:
        """Channels absent from a reading keep the previous value (the forward fill of a partial reading)."""
        return [float(values.get(c, previous[j])) for j, c in enumerate(self.channels)]

    def insert(
        self, state: WindowState | None, epoch_s: float, values: Mapping[str, float], regime: int, fill: list[float]
    ) -> tuple[WindowState, Placement]:
        """Place one reading; ``fill`` stands in for channels never seen yet on this device (e.g. regime means).

        ``vals`` is flat (``size`` rows of ``len(channels)`` floats, oldest first) so that a batch of windows turns
        into one array cheaply; ``obs`` marks slots that hold a reading (0: forward filled); ``reg`` is the regime.
        """
        width = len(self.channels)
        slot = self.slot_of(epoch_s)
        if not state:
            row = self._row(values, fill)
            return {
                "slot": slot,
                "vals": row * self.size,
                "obs": [0] * (self.size - 1) + [1],
                "reg": [regime] * self.size,
                "n": 1,
                "seen": [slot] * width,
            }, Placement(True, 0)
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
            return {**advanced, "seen": seen}, Placement(True, 0)
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
        new_obs[idx] = 1
        filled = {"slot": newest, "vals": new_vals, "obs": new_obs, "reg": new_reg, "n": state["n"] + 1}
        return {**filled, "seen": seen}, Placement(True, behind)

    def window(self, state: WindowState, behind: int = 0) -> tuple[list[float], list[int]]:
        """The ``seq_len`` rows (flat) and regimes that end at the slot ``behind`` slots before the newest."""
        end = self.size - behind
        width = len(self.channels)
        return state["vals"][(end - self.seq_len) * width : end * width], state["reg"][end - self.seq_len : end]
