"""Detection delay and false alarms of a detector on error streams with a known change point."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamsense.models.drift.detectors import ErrorDriftDetector


@dataclass(frozen=True)
class DetectionOutcome:
    """What one detector did on one stream; ``delay`` is None when it never fired after the change."""

    detections: list[int]
    false_alarms: int
    delay: int | None


def bernoulli_error_stream(
    n: int, change_point: int, p_before: float, p_after: float, seed: int
) -> npt.NDArray[np.int64]:
    """0/1 errors with rate ``p_before`` up to ``change_point`` and ``p_after`` from it on (seeded)."""
    if not 0 <= change_point <= n:
        raise ValueError("change_point must lie within the stream")
    rng = np.random.default_rng(seed)
    rates = np.where(np.arange(n) < change_point, p_before, p_after)
    return (rng.random(n) < rates).astype(np.int64)


def evaluate_detector(detector: ErrorDriftDetector, stream: Iterable[float], change_point: int) -> DetectionOutcome:
    """Run the stream through a fresh detector; alarms before ``change_point`` are false, the first after is the hit."""
    detections = [i for i, error in enumerate(stream) if detector.update(error)]
    after = [i for i in detections if i >= change_point]
    return DetectionOutcome(
        detections=detections,
        false_alarms=sum(1 for i in detections if i < change_point),
        delay=after[0] - change_point if after else None,
    )


def compare_detectors(
    factories: dict[str, Callable[[], ErrorDriftDetector]],
    runs: int,
    n: int,
    change_point: int,
    p_before: float,
    p_after: float,
    seed: int = 0,
) -> dict[str, dict[str, float | int | None]]:
    """Summary per detector over ``runs`` seeded streams: detection rate, delay, false alarms per run.

    Passing ``change_point == n`` gives stationary streams, where every alarm is false.
    """
    streams = [bernoulli_error_stream(n, change_point, p_before, p_after, seed + r) for r in range(runs)]
    summary: dict[str, dict[str, float | int | None]] = {}
    for name, factory in factories.items():
        outcomes = [evaluate_detector(factory(), stream, change_point) for stream in streams]
        delays = [o.delay for o in outcomes if o.delay is not None]
        summary[name] = {
            "runs": runs,
            "detection_rate": len(delays) / runs if change_point < n else None,
            "mean_delay": float(np.mean(delays)) if delays else None,
            "median_delay": float(np.median(delays)) if delays else None,
            "max_delay": int(max(delays)) if delays else None,
            "mean_false_alarms": float(np.mean([o.false_alarms for o in outcomes])),
            "runs_with_false_alarm": sum(1 for o in outcomes if o.false_alarms > 0),
        }
    return summary
