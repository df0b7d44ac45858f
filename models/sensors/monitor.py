"""The per-device detector the streaming agent calls: pure functions of (device state, reading) -> (state, verdict).

A device's state is a JSON-able dict (window rows, threshold and warning latch), so it fits a Faust table keyed by
``device_id``. ``process_many`` batches one LSTM call across all readings of a batch, which is what makes it fast.

A device silent for longer than ``idle_s`` (event time) starts over, cold, as a new one: by then its window holds
nothing but the forward fill of its last reading, and its threshold and warning latch describe a past run. A reading a
whole window after the device's last starts the window and the warning latch over, and the device is judged cold
until its window fills again: until stop 36 it was judged on a window of forward-filled values (false warnings on
healthy units after 30 minutes of silence, and a repaired unit kept its latched warning). A reading a whole window or
more before the device's newest is refused as too old (the agent dead-letters it), unless it is the
``clock_step_readings``-th such reading in a row (none accepted between them): then the device's clock stepped back,
and its window and latch start over. Until stop 38 one such reading was enough, so a single reading delivered half an
hour late, or dated 1970, wiped a failing unit's window and latch, the next live reading (now a window ahead) wiped
them again, and the unit went unwarned for 23 of its last 58 minutes; until stop 36 the device's readings were
dropped as late until its clock caught up. ``silent``
tells the worker which states no reading can need any more, so that a fleet whose device ids change does not grow the
table for ever.
"""

import gc
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from streamsense.models.sensors.artifact import HST_Z_RANGE, SensorModel
from streamsense.models.sensors.forecaster import failure_probability, quantize
from streamsense.models.sensors.window import WindowKeeper
from streamsense.schemas.sensors import SensorReading

Label = Literal["normal", "anomaly", "failure_warning"]
Scorer = Literal["lstm", "hst", "dropped"]
DeviceState = dict[str, Any]
WINDOW_KEYS = ("w", "warn", "back")
"""What a device starts over without when its clock jumps: its window, warning latch and count of too-old readings."""


@dataclass(slots=True)
class SensorVerdict:
    """What the agent turns into a ``SensorAlert``; ``reasons`` are (feature, value, contribution) triples, and name
    only channels whose value the device sent: never one the window fills in for a channel it has not sent yet."""

    label: Label
    score: float
    threshold: float
    failure_probability: float | None
    minutes_to_failure: float | None
    scorer: Scorer
    reasons: list[tuple[str, float, float]] = field(default_factory=list)
    unusable: str | None = None
    """Why the reading cannot be judged (the agent dead-letters it); its device's state is left as it was."""

    def alert_fields(self) -> dict[str, Any]:
        """The ``SensorAlert`` fields this verdict decides; the agent adds ids, times, key, model and latency.
        ``minutes_to_failure`` equal to the model's ``rul_cap`` means "at least that long".
        """
        return {
            "label": self.label,
            "score": self.score,
            "failure_probability": self.failure_probability,
            "minutes_to_failure": self.minutes_to_failure,
            "reasons": [{"feature": f, "value": v, "contribution": c} for f, v, c in self.reasons],
            "features": {"scorer": self.scorer, "threshold": self.threshold},
        }


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a batch's small allocations (lists, no cycles), whose collections would
    walk every device state the worker holds."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class SensorMonitor:
    """Scores readings with the LSTM once a device's window is warm, with the frozen HalfSpaceTrees before that."""

    def __init__(
        self, model: SensorModel, int8: bool = False, idle_s: float = math.inf, clock_step_readings: int | None = None
    ) -> None:
        """``clock_step_readings`` (by default the model's lateness + 1) readings in a row a window or more behind a
        device's newest are a clock that stepped back; fewer are stray readings, refused."""
        self.model = model
        self.idle_s = idle_s
        self.clock_step_readings = clock_step_readings or model.lateness + 1
        self.keeper = WindowKeeper(model.channels, model.seq_len, model.step_s, model.lateness)
        self.net: nn.Module = quantize(model.net) if int8 else model.net
        self._fill = [row.tolist() for row in model.regime_mean]

    def process(self, state: DeviceState | None, reading: SensorReading) -> tuple[DeviceState, SensorVerdict]:
        """One reading of one device."""
        states, verdicts = self.process_many({reading.device_id: state} if state else {}, [reading])
        return states[reading.device_id], verdicts[0]

    def silent(self, state: DeviceState, newest: float) -> bool:
        """Whether a reading at ``newest`` (epoch seconds) or later would start ``state``'s device over."""
        return newest - self.keeper.ends_at(state["w"]) > self.idle_s

    def process_many(
        self, states: Mapping[str, DeviceState], readings: Sequence[SensorReading]
    ) -> tuple[dict[str, DeviceState], list[SensorVerdict]]:
        """Readings in arrival order (several may share a device); returns updated states of the devices touched
        and one verdict per reading. Equivalent to calling ``process`` reading by reading.

        The cyclic garbage collector is paused for the batch: a batch allocates many small lists (no cycles), and
        each collection would otherwise walk every device state the worker holds, which halves throughput.
        """
        with gc_paused():
            return self._process_many(states, readings)

    def _process_many(
        self, states: Mapping[str, DeviceState], readings: Sequence[SensorReading]
    ) -> tuple[dict[str, DeviceState], list[SensorVerdict]]:
        model = self.model
        keeper = self.keeper
        out: dict[str, DeviceState] = {}
        # (device, slots behind the newest, accepted, warm, moves the latch, epoch seconds, stand-in channels)
        placed: list[tuple[str, int, bool, bool, bool, float, tuple[int, ...]]] = []
        refused: dict[int, str] = {}
        flat: list[list[float]] = []
        regimes: list[list[int]] = []
        for reading in readings:
            key = reading.device_id
            state = out.get(key) or states.get(key) or {}
            regime = model.regime_index(reading.operating_regime)
            epoch_s = reading.event_time.timestamp()
            state, refusal = self._admit(state, epoch_s, reading.values)
            if refusal:
                refused[len(placed)] = refusal
                out[key] = state
                placed.append((key, 0, False, False, False, epoch_s, ()))
                rows, regs = keeper.window(state["w"])
                flat.append(rows)
                regimes.append(regs)
                continue
            window, placement = keeper.insert(state.get("w"), epoch_s, reading.values, regime, self._fill[regime])
            if placement.accepted and "back" in state:
                state = {k: v for k, v in state.items() if k != "back"}
            out[key] = {**state, "w": window}
            behind = placement.behind if placement.accepted else 0
            latch = placement.accepted and placement.behind == 0 and placement.filled
            warm = window["n"] >= model.seq_len
            stand_ins = keeper.stand_ins(window, behind, reading.values)
            placed.append((key, placement.behind, placement.accepted, warm, latch, epoch_s, stand_ins))
            rows, regs = keeper.window(window, behind)
            flat.append(rows)
            regimes.append(regs)
        width = len(model.channels)
        raw = np.fromiter(
            itertools.chain.from_iterable(flat), dtype=np.float64, count=len(flat) * model.seq_len * width
        )
        raw = raw.reshape(len(flat), model.seq_len, width)
        z = model.normalise(raw, np.asarray(regimes, dtype=np.int64))
        warm_idx = [i for i, p in enumerate(placed) if p[2] and p[3]]
        scores, order, residual, risk = self._run_net(z, warm_idx)
        latest = raw[:, -1].tolist()
        verdicts = []
        j = 0
        for i, (key, behind, accepted, warm, latch, epoch_s, stand_ins) in enumerate(placed):
            state = out[key]
            if i in refused:
                verdicts.append(SensorVerdict("normal", 0.0, 0.0, None, None, "dropped", unusable=refused[i]))
                continue
            if not accepted:
                latched: Label = "failure_warning" if state.get("warn", {}).get("on") else "normal"
                verdicts.append(SensorVerdict(latched, 0.0, 0.0, None, None, "dropped", [("late_slots", behind, 0.0)]))
                continue
            if warm:
                cited = _cited(order[j], stand_ins) if stand_ins else order[j][:2]
                reasons = [(model.channels[c], latest[i][c], residual[j][c]) for c in cited]
                row = None if risk is None else risk[j]
                verdict, state = self._judge_warm(state, scores[j], reasons, row, latch, epoch_s)
                out[key] = state
                j += 1
            else:
                verdict = self._judge_cold(z[i, -1], latest[i], stand_ins)
            verdicts.append(verdict)
        return out, verdicts

    def _admit(self, state: DeviceState, epoch_s: float, values: Mapping[str, float]) -> tuple[DeviceState, str | None]:
        """The state a reading at ``epoch_s`` goes into (started over after a silence or a clock jump), or the
        state to keep and why the reading is refused."""
        if not state.get("w"):
            return state, None
        # before a restart, which would give the channel a new grace: a probe that is gone stays gone
        stale = self.keeper.stale(state["w"], epoch_s, values)
        if stale:
            return state, self._stale_reason(stale)
        if self.silent(state, epoch_s):
            return {}, None
        ahead = self.keeper.ahead(state["w"], epoch_s)
        if -ahead >= self.model.seq_len:
            back = state.get("back", 0) + 1
            if back < self.clock_step_readings:
                return {**state, "back": back}, self._too_old_reason(-ahead)
        if abs(ahead) >= self.model.seq_len:
            return {k: v for k, v in state.items() if k not in WINDOW_KEYS}, None
        return state, None

    def _too_old_reason(self, behind: int) -> str:
        model = self.model
        return (
            f"the reading is too old: its slot is {behind:,} steps of {model.step_s:g} s"
            f" ({behind * model.step_s:,.0f} s) behind the device's newest, a whole window ({model.seq_len} steps) or"
            f" more; {self.clock_step_readings} such readings in a row would start the device over as a clock that"
            " stepped back"
        )

    def _stale_reason(self, stale: Mapping[str, float]) -> str:
        gone = ", ".join(f"{channel} for {seconds:,.0f} s" for channel, seconds in stale.items())
        return (
            f"the device has not sent {gone}: its last values stand in for at most {self.model.lateness} steps of"
            f" {self.model.step_s:g} s, and a flat line where a channel should move reads as a failure"
        )

    def _run_net(
        self, z: np.ndarray, warm_idx: list[int]
    ) -> tuple[list[float], list[list[int]], list[list[float]], list[list[float]] | None]:
        """One LSTM call for every warm window: scores (RMS of residuals in training residual scales), the channels
        by decreasing residual, the residuals, and with a RUL head, rows of (failure probability within the horizon,
        within the warning look-ahead, median minutes to failure).
        """
        if not warm_idx:
            return [], [], [], None
        x = torch.from_numpy(z[warm_idx].astype(np.float32))
        with torch.inference_mode():
            forecast, rul = self.net.last_step(x)
        residual = (z[warm_idx, -1] - forecast.numpy()) / self.model.resid_std
        scores = np.sqrt(np.mean(residual**2, axis=1)).tolist()
        order = np.argsort(-np.abs(residual), axis=1).tolist()
        warning = self.model.warning
        if rul is None or warning is None:
            return scores, order, residual.tolist(), None
        mu, log_sigma = rul.numpy()[:, 0], np.clip(rul.numpy()[:, 1], -4.0, 3.0)
        risk = np.stack(
            [
                failure_probability(mu, log_sigma, self.model.horizon_minutes),
                failure_probability(mu, log_sigma, warning.look_ahead_minutes),
                np.minimum(np.expm1(mu), self.model.rul_cap),
            ],
            axis=1,
        )
        return scores, order, residual.tolist(), risk.tolist()

    def _judge_warm(
        self,
        state: DeviceState,
        score: float,
        reasons: list[tuple[str, float, float]],
        risk: list[float] | None,
        latch: bool,
        epoch_s: float,
    ) -> tuple[SensorVerdict, DeviceState]:
        """Adaptive threshold for the anomaly label; the warning latch moves only on a reading that fills a new
        newest slot (``latch``): a late one, or a second one for the same slot (a producer's retry), would count a
        step twice toward its consecutive readings."""
        model = self.model
        thr_state, bar, anomalous = model.threshold.step(state.get("thr"), score)
        state = {**state, "thr": thr_state}
        warning = False
        p = minutes = None
        if risk is not None and model.warning is not None:
            p, warn_p, minutes = risk
            if latch:
                warn_state, warning = model.warning.step(state.get("warn"), warn_p, epoch_s)
                state = {**state, "warn": warn_state}
            else:
                warning = bool(state.get("warn", {}).get("on", 0))
            if warning:
                reasons.insert(0, (f"failure_within_{model.warning.look_ahead_minutes:g}min", warn_p, warn_p))
        label: Label = "failure_warning" if warning else "anomaly" if anomalous else "normal"
        return SensorVerdict(label, score, bar, p, minutes, "lstm", reasons), state

    def _judge_cold(self, z_last: np.ndarray, values: list[float], stand_ins: tuple[int, ...]) -> SensorVerdict:
        """Warm-up path: the frozen HalfSpaceTrees scores the latest reading alone, and a channel beyond the range it
        reads (``HST_Z_RANGE`` standard deviations, where its inputs are clipped) is an anomaly whatever the others
        say: the trees need most channels off, so one channel at 50 standard deviations read normal. A stand-in for
        a channel the device has not sent (``stand_ins``) is no measurement: it is neither cited nor off range,
        though it sits many deviations out once the regime whose mean it took is left."""
        model = self.model
        score = float(model.hst.score_one(model.hst_features(z_last)))
        size = np.abs(z_last)
        reasons = [(model.channels[c], values[c], float(z_last[c])) for c in _cited(np.argsort(-size), stand_ins)]
        if stand_ins:
            size[list(stand_ins)] = 0.0
        off_range = bool(size.max() > HST_Z_RANGE)
        label: Label = "anomaly" if score > model.hst_threshold or off_range else "normal"
        return SensorVerdict(label, score, model.hst_threshold, None, None, "hst", reasons)


def _cited(order: Sequence[int], stand_ins: tuple[int, ...]) -> list[int]:
    """The two channels a verdict names, first in ``order``, skipping those whose value is only a stand-in."""
    return [c for c in order if c not in stand_ins][:2]
