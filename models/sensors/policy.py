"""Decision rules kept per device: an adaptive anomaly threshold and a failure-warning latch with hysteresis."""

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class AdaptiveThreshold:
    """Anomaly when the score exceeds ``mean + k * std`` of the device's own recent scores (EWMA), never below
    ``floor``. Scores above the threshold are clipped before updating, so an anomaly does not raise its own bar.
    """

    floor: float
    k: float = 4.0
    alpha: float = 0.01
    warmup: int = 30

    def step(self, state: dict[str, Any] | None, score: float) -> tuple[dict[str, Any], float, bool]:
        """Returns the new state, the threshold that applied to this score, and whether it is an anomaly."""
        mean, var, count = (state["m"], state["v"], state["k"]) if state else (0.0, 0.0, 0)
        bar = self.floor if count < self.warmup else max(self.floor, mean + self.k * math.sqrt(var))
        anomalous = score > bar
        clipped = min(score, bar)
        alpha = max(self.alpha, 1.0 / (count + 1))
        delta = clipped - mean
        mean += alpha * delta
        var = (1.0 - alpha) * (var + alpha * delta * delta)
        return {"m": mean, "v": var, "k": count + 1}, bar, anomalous

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class WarningPolicy:
    """Failure-warning latch on ``p = P(RUL <= look_ahead_minutes)``: enter after ``enter_count`` consecutive
    readings with ``p >= p_enter``; leave only after ``exit_count`` consecutive readings with ``p < p_exit`` and at
    least ``min_dwell_minutes`` of event time in the warning state. The gap between ``p_enter`` and ``p_exit`` plus
    the dwell is what stops flapping. The look-ahead is longer than the reported horizon so that a warning can come
    at least a horizon before the failure.
    """

    look_ahead_minutes: float = 30.0
    p_enter: float = 0.5
    p_exit: float = 0.25
    enter_count: int = 2
    exit_count: int = 5
    min_dwell_minutes: float = 30.0

    def step(self, state: dict[str, Any] | None, p: float, epoch_s: float) -> tuple[dict[str, Any], bool]:
        """Returns the new state and whether the warning is on after this reading."""
        on, run, since = (bool(state["on"]), state["run"], state["since"]) if state else (False, 0, None)
        if not on:
            run = run + 1 if p >= self.p_enter else 0
            if run >= self.enter_count:
                return {"on": 1, "run": 0, "since": epoch_s}, True
            return {"on": 0, "run": run, "since": None}, False
        run = run + 1 if p < self.p_exit else 0
        if run >= self.exit_count and since is not None and epoch_s - since >= self.min_dwell_minutes * 60.0:
            return {"on": 0, "run": 0, "since": None}, False
        return {"on": 1, "run": run, "since": since}, True

    def to_dict(self) -> dict[str, float]:
        return asdict(self)
