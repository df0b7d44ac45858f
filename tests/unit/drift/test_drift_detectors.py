import json
import random
from pathlib import Path

from streamsense.models.drift.detector_evaluation import bernoulli_error_stream, compare_detectors, evaluate_detector
from streamsense.models.drift.detectors import (
    AdwinDetector,
    AlwaysAlarmDetector,
    detector_from_dict,
    load,
    run_detectors,
)


def test_adwin_detects_abrupt_error_rate_change_within_bounded_delay() -> None:
    stream = bernoulli_error_stream(n=3000, change_point=1500, p_before=0.1, p_after=0.5, seed=0)
    outcome = evaluate_detector(AdwinDetector(), stream, change_point=1500)
    assert outcome.false_alarms == 0
    assert outcome.delay is not None and outcome.delay < 300


def test_adwin_raises_no_alarm_on_stationary_stream() -> None:
    for seed in range(3):
        stream = bernoulli_error_stream(n=3000, change_point=3000, p_before=0.2, p_after=0.2, seed=seed)
        assert evaluate_detector(AdwinDetector(), stream, change_point=3000).detections == []


def test_always_alarm_detector_fires_on_every_event() -> None:
    stream = bernoulli_error_stream(n=100, change_point=50, p_before=0.1, p_after=0.5, seed=0)
    outcome = evaluate_detector(AlwaysAlarmDetector(), stream, change_point=50)
    assert outcome.detections == list(range(100))
    assert outcome.false_alarms == 50
    assert outcome.delay == 0


def test_compare_detectors_shows_adwin_trades_delay_for_no_false_alarms() -> None:
    summary = compare_detectors(
        {"adwin": AdwinDetector, "always": AlwaysAlarmDetector},
        runs=3,
        n=2000,
        change_point=1000,
        p_before=0.1,
        p_after=0.4,
    )
    assert summary["adwin"]["detection_rate"] == 1.0
    assert summary["adwin"]["mean_false_alarms"] == 0.0
    assert summary["always"]["mean_false_alarms"] == 1000.0


def test_detector_state_round_trips_through_json_and_continues_identically() -> None:
    stream = bernoulli_error_stream(n=2000, change_point=1000, p_before=0.1, p_after=0.5, seed=5)
    original = AdwinDetector(delta=0.01)
    for error in stream[:900]:
        original.update(error)
    restored = detector_from_dict(json.loads(json.dumps(original.to_dict())))
    assert isinstance(restored, AdwinDetector)
    assert restored.n_seen == 900 and restored.delta == 0.01
    assert restored.estimation == original.estimation
    rest = stream[900:]
    assert [original.update(e) for e in rest] == [restored.update(e) for e in rest]
    assert restored.n_detections == original.n_detections > 0


def test_detector_save_and_load(tmp_path: Path) -> None:
    detector = AlwaysAlarmDetector()
    detector.update(1.0)
    detector.save(tmp_path / "detector.json")
    loaded = load(tmp_path / "detector.json")
    assert isinstance(loaded, AlwaysAlarmDetector)
    assert loaded.n_detections == 1 and loaded.last_detection == 0


def test_adwin_alarms_after_the_error_rate_jumps_while_the_baseline_alarms_on_every_error() -> None:
    rng = random.Random(0)
    errors = [float(rng.random() < 0.05) for _ in range(2000)] + [float(rng.random() < 0.5) for _ in range(2000)]
    summary = run_detectors(errors, split=2000)
    assert summary["adwin"]["reference_alarms"] == 0
    assert summary["adwin"]["current_alarms"] >= 1
    assert summary["adwin"]["first_current_alarm"] < 300
    assert summary["always"]["reference_alarms"] > 50
