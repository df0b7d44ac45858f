"""Online concept-drift detectors on a model's error stream (1 = wrong decision, 0 = right, or a loss).

One small interface over river's ADWIN and an always-alarm baseline, so an agent can keep one detector
per key in a table and the evaluation can show what ADWIN buys over alarming on every event.
State round-trips through a JSON-able dict (``to_dict``/``detector_from_dict``) for Faust tables.
"""

import base64
import json
import pickle
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from river.drift import ADWIN

STATE_VERSION = 1


class ErrorDriftDetector(ABC):
    """Feed errors one at a time; ``update`` says whether drift was signalled at this step."""

    kind: ClassVar[str]

    def __init__(self) -> None:
        self.n_seen = 0
        self.n_detections = 0
        self.last_detection: int | None = None

    def update(self, error: float) -> bool:
        """Consume one error value; True when this step signals a change."""
        detected = self._update(float(error))
        self.n_seen += 1
        if detected:
            self.n_detections += 1
            self.last_detection = self.n_seen - 1
        return detected

    @abstractmethod
    def _update(self, error: float) -> bool: ...

    @abstractmethod
    def _params(self) -> dict[str, Any]: ...

    def _state(self) -> dict[str, Any]:
        return {}

    def _restore(self, state: dict[str, Any]) -> None:
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able snapshot: kind, parameters, counters and the detector's own state."""
        return {
            "kind": self.kind,
            "version": STATE_VERSION,
            "params": self._params(),
            "n_seen": self.n_seen,
            "n_detections": self.n_detections,
            "last_detection": self.last_detection,
            "state": self._state(),
        }

    def save(self, path: Path) -> None:
        """Write ``to_dict`` as JSON."""
        Path(path).write_text(json.dumps(self.to_dict()))


class AdwinDetector(ErrorDriftDetector):
    """river's ADWIN: keeps an adaptive window and signals when two sub-windows' means differ beyond ``delta``."""

    kind = "adwin"

    def __init__(self, delta: float = 0.002, clock: int = 32, grace_period: int = 10) -> None:
        super().__init__()
        self.delta = delta
        self.clock = clock
        self.grace_period = grace_period
        self._adwin = ADWIN(delta=delta, clock=clock, grace_period=grace_period)

    @property
    def estimation(self) -> float:
        """Mean error over the current window: the error rate since the last change."""
        return float(self._adwin.estimation)

    @property
    def width(self) -> int:
        return int(self._adwin.width)

    def _update(self, error: float) -> bool:
        self._adwin.update(error)
        return bool(self._adwin.drift_detected)

    def _params(self) -> dict[str, Any]:
        return {"delta": self.delta, "clock": self.clock, "grace_period": self.grace_period}

    def _state(self) -> dict[str, Any]:
        # river's ADWIN buckets live in a compiled object without a public export, so the state is its pickle.
        return {"adwin_pickle_b64": base64.b64encode(pickle.dumps(self._adwin)).decode("ascii")}

    def _restore(self, state: dict[str, Any]) -> None:
        # Only ever restore dicts this process family wrote (its own Faust changelog): pickle trusts its input.
        self._adwin = pickle.loads(base64.b64decode(state["adwin_pickle_b64"]))


class AlwaysAlarmDetector(ErrorDriftDetector):
    """Baseline that signals drift on every event: perfect delay, every pre-change step a false alarm."""

    kind = "always"

    def _update(self, error: float) -> bool:
        return True

    def _params(self) -> dict[str, Any]:
        return {}


DETECTOR_KINDS: dict[str, type[ErrorDriftDetector]] = {
    AdwinDetector.kind: AdwinDetector,
    AlwaysAlarmDetector.kind: AlwaysAlarmDetector,
}


def detector_from_dict(data: dict[str, Any]) -> ErrorDriftDetector:
    """Rebuild a detector from ``to_dict`` output."""
    if data.get("version") != STATE_VERSION:
        raise ValueError(f"unsupported detector state version: {data.get('version')!r}")
    detector = DETECTOR_KINDS[data["kind"]](**data["params"])
    detector.n_seen = int(data["n_seen"])
    detector.n_detections = int(data["n_detections"])
    detector.last_detection = data["last_detection"]
    detector._restore(data["state"])
    return detector


def load(path: Path) -> ErrorDriftDetector:
    """Read a detector written by ``save``."""
    return detector_from_dict(json.loads(Path(path).read_text()))


def run_detectors(errors: list[float], split: int) -> dict[str, dict[str, Any]]:
    """ADWIN beside the always-alarm baseline over one error stream (reference errors first, then current from
    ``split``): alarms in each part and the first alarm in the current part, so an alarm's value is visible."""
    out: dict[str, dict[str, Any]] = {}
    for detector in (AdwinDetector(), AlwaysAlarmDetector()):
        alarms = [i for i, error in enumerate(errors) if detector.update(error)]
        current = [i - split for i in alarms if i >= split]
        out[detector.kind] = {
            "errors": len(errors),
            "reference_alarms": len(alarms) - len(current),
            "current_alarms": len(current),
            "first_current_alarm": current[0] if current else None,
        }
    return out
