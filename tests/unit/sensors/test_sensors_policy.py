"""Warning hysteresis and the adaptive anomaly threshold."""

import itertools

from streamsense.models.sensors.policy import AdaptiveThreshold, WarningPolicy


def _replay(policy: WarningPolicy, probabilities: list[float]) -> list[bool]:
    state = None
    out = []
    for minute, p in enumerate(probabilities):
        state, on = policy.step(state, p, minute * 60.0)
        out.append(on)
    return out


def _switches(flags: list[bool]) -> int:
    return sum(1 for a, b in itertools.pairwise(flags) if a != b)


def test_probability_oscillating_around_the_enter_threshold_does_not_flap() -> None:
    policy = WarningPolicy(p_enter=0.5, p_exit=0.25, enter_count=2, exit_count=5, min_dwell_minutes=30)
    flags = _replay(policy, [0.55, 0.45] * 10 + [0.55, 0.6] + [0.45, 0.55, 0.3, 0.52] * 30)
    assert flags[21]
    assert _switches(flags) == 1


def test_single_spike_of_probability_does_not_raise_a_warning() -> None:
    policy = WarningPolicy(p_enter=0.5, p_exit=0.25, enter_count=2)
    assert not any(_replay(policy, [0.1, 0.9, 0.1, 0.1, 0.9, 0.1]))


def test_warning_clears_only_after_exit_count_low_readings_and_the_minimum_dwell() -> None:
    policy = WarningPolicy(p_enter=0.5, p_exit=0.25, enter_count=2, exit_count=3, min_dwell_minutes=10)
    flags = _replay(policy, [0.9, 0.9] + [0.0] * 20)
    assert flags[1]
    first_off = flags.index(False, 1)
    assert first_off == 11  # entered at minute 1, dwell 10 minutes reached at minute 11 with >= 3 low readings


def test_warning_state_is_json_like() -> None:
    state, on = WarningPolicy().step(None, 0.9, 0.0)
    assert not on and set(state) == {"on", "run", "since"}


def test_adaptive_threshold_flags_an_outlier_without_raising_its_own_bar() -> None:
    threshold = AdaptiveThreshold(floor=2.0, k=4.0, alpha=0.05, warmup=10)
    state = None
    for i in range(100):
        state, _, anomalous = threshold.step(state, 1.0 + 0.1 * (i % 3))
        assert not anomalous
    state, bar_before, anomalous = threshold.step(state, 50.0)
    assert anomalous
    _, bar_after, _ = threshold.step(state, 1.0)
    assert bar_after <= bar_before * 1.1


def test_adaptive_threshold_never_goes_below_its_floor() -> None:
    threshold = AdaptiveThreshold(floor=2.0, warmup=1)
    state = None
    for _ in range(50):
        state, bar, _ = threshold.step(state, 0.0)
        assert bar >= 2.0
