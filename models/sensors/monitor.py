"""The per-device detector the streaming agent calls: pure functions of (device state, reading) -> (state, verdict).

A device's state is a JSON-able dict (window rows, threshold and warning latch), so it fits a Faust table keyed by
``device_id``. ``process_many`` batches one LSTM call across all readings of a batch, which is what makes it fast.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from streamsense.models.sensors.artifact import SensorModel
from streamsense.models.sensors.forecaster import failure_probability, quantize
from streamsense.models.sensors.window import WindowKeeper
from streamsense.schemas.sensors import SensorReading

Label = Literal["normal", "anomaly", "failure_warning"]
DeviceState = dict[str, Any]


@dataclass(frozen=True)
class SensorVerdict:
    """What the agent turns into a ``SensorAlert``; ``reasons`` are (feature, value, contribution) triples."""

    label: Label
    score: float
    threshold: float
    failure_probability: float | None
    minutes_to_failure: float | None
    scorer: Literal["lstm", "hst", "dropped"]
    reasons: list[tuple[str, float, float]] = field(default_factory=list)

    def reason_dicts(self) -> list[dict[str, Any]]:
        """Rows for ``streamsense.schemas.base.Reason``."""
        return [{"feature": f, "value": v, "contribution": c} for f, v, c in self.reasons]


class SensorMonitor:
    """Scores readings with the LSTM once a device's window is warm, with the frozen HalfSpaceTrees before that."""

    def __init__(self, model: SensorModel, int8: bool = False) -> None:
        self.model = model
        self.keeper = WindowKeeper(model.channels, model.seq_len, model.step_s, model.lateness)
        self.net: nn.Module = quantize(model.net) if int8 else model.net
        self._fill = [row.tolist() for row in model.regime_mean]

    def process(self, state: DeviceState | None, reading: SensorReading) -> tuple[DeviceState, SensorVerdict]:
        """One reading of one device."""
        states, verdicts = self.process_many({reading.device_id: state} if state else {}, [reading])
        return states[reading.device_id], verdicts[0]

    def process_many(
        self, states: Mapping[str, DeviceState], readings: Sequence[SensorReading]
    ) -> tuple[dict[str, DeviceState], list[SensorVerdict]]:
        """Readings in arrival order (several may share a device); returns updated states of the devices touched
        and one verdict per reading. Equivalent to calling ``process`` reading by reading.
        """
        model = self.model
        out: dict[str, DeviceState] = {}
        placed: list[tuple[str, int, bool, bool, float]] = []
        windows: list[list[list[float]]] = []
        regimes: list[list[int]] = []
        for reading in readings:
            key = reading.device_id
            state = out.get(key) or states.get(key) or {}
            regime = model.regime_index(reading.operating_regime)
            window, placement = self.keeper.insert(
                state.get("w"), reading.event_time.timestamp(), reading.values, regime, self._fill[regime]
            )
            out[key] = {**state, "w": window}
            warm = placement.accepted and window["n"] >= model.seq_len
            placed.append((key, placement.behind, placement.accepted, warm, reading.event_time.timestamp()))
            rows, regs = self.keeper.window(window, placement.behind if placement.accepted else 0)
            windows.append(rows)
            regimes.append(regs)
        z = model.normalise(np.asarray(windows, dtype=np.float64), np.asarray(regimes, dtype=np.int64))
        warm_idx = [i for i, p in enumerate(placed) if p[3]]
        residual, risk = self._run_net(z, warm_idx)
        verdicts = []
        j = 0
        for i, (key, behind, accepted, warm, epoch_s) in enumerate(placed):
            state = out[key]
            if not accepted:
                latched: Label = "failure_warning" if state.get("warn", {}).get("on") else "normal"
                verdicts.append(SensorVerdict(latched, 0.0, 0.0, None, None, "dropped", [("late_slots", behind, 0.0)]))
                continue
            if warm:
                row = None if risk is None else risk[j]
                verdict, state = self._judge_warm(state, residual[j], row, behind, epoch_s, windows[i][-1])
                j += 1
            else:
                verdict = self._judge_cold(z[i, -1], windows[i][-1])
            out[key] = state
            verdicts.append(verdict)
        return out, verdicts

    def _run_net(self, z: np.ndarray, warm_idx: list[int]) -> tuple[np.ndarray, np.ndarray | None]:
        """One LSTM call for every warm window: residuals (in training residual scales) and, with a RUL head, rows
        of (failure probability within the horizon, within the warning look-ahead, median minutes to failure).
        """
        if not warm_idx:
            return np.zeros((0, z.shape[2])), None
        x = torch.from_numpy(z[warm_idx].astype(np.float32))
        with torch.inference_mode():
            forecast, rul = self.net.last_step(x)
        residual = (z[warm_idx, -1] - forecast.numpy()) / self.model.resid_std
        warning = self.model.warning
        if rul is None or warning is None:
            return residual, None
        mu, log_sigma = rul.numpy()[:, 0], np.clip(rul.numpy()[:, 1], -4.0, 3.0)
        risk = np.stack(
            [
                failure_probability(mu, log_sigma, self.model.horizon_minutes),
                failure_probability(mu, log_sigma, warning.look_ahead_minutes),
                np.minimum(np.expm1(mu), self.model.rul_cap),
            ],
            axis=1,
        )
        return residual, risk

    def _judge_warm(
        self,
        state: DeviceState,
        residual: np.ndarray,
        risk: np.ndarray | None,
        behind: int,
        epoch_s: float,
        values: list[float],
    ) -> tuple[SensorVerdict, DeviceState]:
        model = self.model
        score = float(np.sqrt(np.mean(residual**2)))
        thr_state, bar, anomalous = model.threshold.step(state.get("thr"), score)
        state = {**state, "thr": thr_state}
        top = np.argsort(-np.abs(residual))[:2]
        reasons = [(model.channels[c], values[c], float(residual[c])) for c in top]
        warning = False
        p = minutes = None
        if risk is not None and model.warning is not None:
            p, warn_p, minutes = float(risk[0]), float(risk[1]), float(risk[2])
            if behind == 0:
                warn_state, warning = model.warning.step(state.get("warn"), warn_p, epoch_s)
                state = {**state, "warn": warn_state}
            else:
                warning = bool(state.get("warn", {}).get("on", 0))
            if warning:
                reasons.insert(0, (f"failure_within_{model.warning.look_ahead_minutes:g}min", warn_p, warn_p))
        label: Label = "failure_warning" if warning else "anomaly" if anomalous else "normal"
        return SensorVerdict(label, score, bar, p, minutes, "lstm", reasons), state

    def _judge_cold(self, z_last: np.ndarray, values: list[float]) -> SensorVerdict:
        """Warm-up path: the frozen HalfSpaceTrees scores the latest reading alone."""
        model = self.model
        score = float(model.hst.score_one(model.hst_features(z_last)))
        top = np.argsort(-np.abs(z_last))[:2]
        reasons = [(model.channels[c], values[c], float(z_last[c])) for c in top]
        label: Label = "anomaly" if score > model.hst_threshold else "normal"
        return SensorVerdict(label, score, model.hst_threshold, None, None, "hst", reasons)
