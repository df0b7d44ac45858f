"""Degradation simulator: seeded determinism, failure times, healthy units, schema-valid readings."""

import itertools
from datetime import timedelta

import numpy as np

from streamsense.datasets.degradation import START_TIME, WEAR_GAIN, simulate
from streamsense.schemas.sensors import SensorReading


def test_same_seed_gives_identical_fleets_and_another_seed_differs() -> None:
    a = simulate(6, seed=3, days=0.5)
    b = simulate(6, seed=3, days=0.5)
    c = simulate(6, seed=4, days=0.5)
    assert np.array_equal(a.values, b.values) and np.array_equal(a.minute, b.minute)
    assert np.array_equal(a.failure_minute, b.failure_minute, equal_nan=True)
    assert not np.array_equal(a.values[:100], c.values[:100])


def test_failing_units_stop_before_their_failure_time_and_healthy_units_run_the_whole_period() -> None:
    days = 1.0
    fleet = simulate(12, seed=1, days=days, healthy_share=0.25)
    period = days * 1440
    healthy = np.isnan(fleet.failure_minute)
    assert healthy.sum() == 3
    for u in range(fleet.n_units):
        minutes = fleet.minute[fleet.unit == u]
        if healthy[u]:
            assert fleet.failure_time(u) is None
            assert minutes.max() >= period - 5
        else:
            assert minutes.max() < fleet.failure_minute[u] <= period
            assert fleet.failure_time(u) == START_TIME + timedelta(minutes=float(fleet.failure_minute[u]))


def test_sensors_drift_in_the_wear_direction_before_failure() -> None:
    fleet = simulate(10, seed=2, days=1.0, healthy_share=0.0, spike_rate=0.0)
    rul = fleet.rul_minutes()
    near, far = rul < 10, rul > 600
    shift = fleet.values[near].mean(axis=0) - fleet.values[far].mean(axis=0)
    assert np.all(np.sign(shift[[0, 2, 4]]) == np.sign(WEAR_GAIN[[0, 2, 4]]))


def test_rows_validate_as_sensor_readings_in_event_time_order() -> None:
    fleet = simulate(3, seed=0, days=0.05)
    readings = list(fleet.readings())
    assert len(readings) == len(fleet.minute)
    assert all(isinstance(r, SensorReading) for r in readings)
    times = [r.event_time for r in readings]
    assert all(b - a > timedelta(seconds=-30) for a, b in itertools.pairwise(times))
    assert readings[0].operating_regime is not None and len(readings[0].values) == 6
