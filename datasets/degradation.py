"""Run-to-failure simulator in the style of NASA C-MAPSS (Saxena et al. 2008), one reading per minute per unit.

Each unit has a wear state ``d(t) = exp((t - t_fail) / tau)`` that grows exponentially and reaches the failure threshold
1.0 at ``t_fail`` (unit-specific ``tau``: some units degrade over one hour, others over several). Six sensors respond to
wear with unit-specific sensitivity, on top of an operating-regime level (regimes switch as a Markov chain), Gaussian
noise, slow drift and rare transient spikes. Healthy units have ``t_fail`` beyond the simulated period. Readings after
failure are not produced; about 1% of readings are missing and event times jitter by a few seconds.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from streamsense.schemas.sensors import SensorReading

CHANNELS: tuple[str, ...] = ("temperature", "pressure", "vibration", "speed", "current", "flow")
N_REGIMES = 3
STEP_S = 60.0
START_TIME = datetime(2026, 1, 1, tzinfo=UTC)
# Regime levels and noise per channel: rows are regimes, columns follow CHANNELS.
REGIME_LEVEL = np.array(
    [
        [520.0, 14.0, 0.8, 2390.0, 41.0, 8.0],
        [560.0, 21.0, 1.1, 2450.0, 47.0, 10.5],
        [605.0, 30.0, 1.5, 2520.0, 55.0, 13.0],
    ]
)
NOISE = np.array([1.5, 0.25, 0.05, 4.0, 0.4, 0.12])
# Shift of each channel at the failure threshold (d = 1), in units of its noise: temperature rises, speed drops...
WEAR_GAIN = np.array([3.0, -2.5, 3.5, -2.0, 2.5, -3.0]) * NOISE


@dataclass(frozen=True)
class SimulatedFleet:
    """Readings of all units; ``failure_minute[u]`` is NaN for a healthy unit (it does not fail within the period)."""

    unit_ids: list[str]
    failure_minute: np.ndarray
    tau_minutes: np.ndarray
    unit: np.ndarray
    minute: np.ndarray
    offset_s: np.ndarray
    regime: np.ndarray
    values: np.ndarray
    spike: np.ndarray

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    def event_time(self, i: int) -> datetime:
        return START_TIME + timedelta(seconds=float(self.minute[i]) * STEP_S + float(self.offset_s[i]))

    def failure_time(self, unit: int) -> datetime | None:
        """True failure time of a unit in event time, or None for a healthy unit."""
        minutes = self.failure_minute[unit]
        return None if np.isnan(minutes) else START_TIME + timedelta(minutes=float(minutes))

    def rul_minutes(self) -> np.ndarray:
        """Remaining useful life of every row in minutes (inf for healthy units)."""
        fail = np.where(np.isnan(self.failure_minute), np.inf, self.failure_minute)
        return fail[self.unit] - self.minute

    def reading(self, i: int) -> SensorReading:
        unit = int(self.unit[i])
        return SensorReading(
            event_id=f"{self.unit_ids[unit]}-{int(self.minute[i])}",
            event_time=self.event_time(i),
            device_id=self.unit_ids[unit],
            values={c: float(self.values[i, j]) for j, c in enumerate(CHANNELS)},
            operating_regime=int(self.regime[i]),
        )

    def readings(self) -> Iterator[SensorReading]:
        """Rows in event-time order across units, as the lead publishes them on ``sensor.readings``."""
        for i in np.lexsort((self.unit, self.minute)):
            yield self.reading(int(i))


def simulate(
    n_units: int = 40,
    seed: int = 0,
    days: float = 3.0,
    healthy_share: float = 0.25,
    missing_share: float = 0.01,
    spike_rate: float = 5e-4,
    prefix: str = "unit",
    noise_scale: float = 1.0,
) -> SimulatedFleet:
    """Simulate ``n_units`` units for ``days`` days; fully determined by ``seed`` and the arguments.

    ``noise_scale`` multiplies the measurement noise only (the wear shift stays as defined), for robustness checks.
    """
    rng = np.random.default_rng(seed)
    period = int(days * 24 * 60)
    n_healthy = round(n_units * healthy_share)
    healthy = np.zeros(n_units, dtype=bool)
    healthy[rng.choice(n_units, size=n_healthy, replace=False)] = True
    failure = np.where(healthy, np.nan, rng.uniform(0.35, 1.0, n_units) * period).round()
    tau = rng.uniform(60.0, 240.0, n_units)
    # A healthy unit's wear is that of a unit failing 2 to 10 days after the period ends.
    virtual_failure = np.where(healthy, period + rng.uniform(2, 10, n_units) * 1440, failure)
    sensitivity = rng.uniform(0.8, 1.2, (n_units, len(CHANNELS)))
    drift = rng.normal(0.0, 0.3, (n_units, len(CHANNELS))) * NOISE

    lengths = np.where(healthy, period, np.minimum(failure, period)).astype(np.int64)
    unit = np.repeat(np.arange(n_units), lengths)
    minute = np.concatenate([np.arange(n) for n in lengths]).astype(np.float64)

    regime = _regimes(rng, lengths)
    wear = np.exp((minute - virtual_failure[unit]) / tau[unit])
    level = REGIME_LEVEL[regime]
    values = (
        level
        + wear[:, None] * WEAR_GAIN * sensitivity[unit]
        + drift[unit] * (minute / period)[:, None]
        + rng.normal(0.0, 1.0, level.shape) * NOISE * noise_scale
    )
    spike = rng.random(len(unit)) < spike_rate
    n_spikes = int(spike.sum())
    values[spike] += rng.choice([-1.0, 1.0], (n_spikes, len(CHANNELS))) * rng.uniform(6, 12, (n_spikes, 1)) * NOISE
    offset = rng.uniform(-10.0, 10.0, len(unit))
    keep = rng.random(len(unit)) >= missing_share
    return SimulatedFleet(
        unit_ids=[f"{prefix}-{seed}-{u:03d}" for u in range(n_units)],
        failure_minute=failure,
        tau_minutes=tau,
        unit=unit[keep],
        minute=minute[keep],
        offset_s=offset[keep],
        regime=regime[keep],
        values=values[keep],
        spike=spike[keep],
    )


def _regimes(rng: np.random.Generator, lengths: np.ndarray) -> np.ndarray:
    """Regime per row: each unit stays in a regime 30 minutes to 4 hours, then draws a new regime."""
    out = []
    for n in lengths:
        durations = rng.integers(30, 240, size=int(n) // 30 + 2)
        states = rng.integers(0, N_REGIMES, size=len(durations))
        out.append(np.repeat(states, durations)[:n])
    return np.concatenate(out).astype(np.int64)
