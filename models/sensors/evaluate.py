"""Offline evaluation on held-out data, run through the same ``SensorMonitor`` the streaming agent uses.

Suthaharan: time-ordered split per mote; the first ``TRAIN_SHARE`` of readings trained the LSTM (and warm up the
online baselines), only the rest is scored. Simulator: a test fleet with its own seed, delivered out of order (each
reading delayed by up to ``max_delay_minutes``); warnings scored as defined in ``scoring.py``.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from streamsense.datasets.degradation import STEP_S, simulate
from streamsense.datasets.suthaharan import SensorNetwork
from streamsense.models.sensors.artifact import HST_Z_RANGE, SensorModel
from streamsense.models.sensors.baselines import hst_online_scores, robust_z_scores
from streamsense.models.sensors.monitor import SensorMonitor, SensorVerdict
from streamsense.models.sensors.scoring import summarise, unit_outcome
from streamsense.models.sensors.training import TRAIN_SEED, TRAIN_SHARE, VALIDATION_SEED
from streamsense.schemas.sensors import SensorReading

TEST_SEED = 303
BATCH = 512


def held_out_seed(seed: int) -> int:
    """``seed``, if the fleet it simulates is one the model has not seen: the training and validation fleets' raise."""
    if seed in (TRAIN_SEED, VALIDATION_SEED):
        raise ValueError(f"seed {seed} simulates a fleet the model was trained or tuned on; pick another")
    return seed


def run_monitor(monitor: SensorMonitor, readings: Sequence[SensorReading]) -> list[SensorVerdict]:
    """Stream readings through the monitor in arrival order, in batches as an agent would."""
    states: dict[str, dict[str, Any]] = {}
    verdicts: list[SensorVerdict] = []
    for start in range(0, len(readings), BATCH):
        updated, batch = monitor.process_many(states, readings[start : start + BATCH])
        states.update(updated)
        verdicts.extend(batch)
    return verdicts


def _ranking(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "average_precision": float(average_precision_score(labels, scores)),
    }


def evaluate_network(model: SensorModel, network: SensorNetwork, int8: bool) -> dict[str, Any]:
    """ROC AUC and AP of the LSTM (fp32 and int8), online HalfSpaceTrees and a robust z-score on the test part."""
    order = np.lexsort((network.mote_id, network.reading))
    readings = list(network.readings())
    lstm = {"lstm": SensorMonitor(model)} | ({"lstm_int8": SensorMonitor(model, int8=True)} if int8 else {})
    scores: dict[str, np.ndarray] = {}
    flagged = np.zeros(len(readings), dtype=bool)
    for name, monitor in lstm.items():
        verdicts = run_monitor(monitor, [readings[i] for i in order])
        scores[name] = np.empty(len(readings))
        scores[name][order] = [v.score for v in verdicts]
        if name == "lstm":
            flagged[order] = [v.label == "anomaly" for v in verdicts]
    scores["half_space_trees"] = np.empty(len(readings))
    scores["robust_z"] = np.empty(len(readings))
    test = np.zeros(len(readings), dtype=bool)
    for mote in np.unique(network.mote_id):
        rows = np.flatnonzero(network.mote_id == mote)
        z = model.normalise(network.values[rows], np.minimum(network.indoor[rows], model.n_regimes - 1))
        features = np.clip((z + HST_Z_RANGE) / (2 * HST_Z_RANGE), 0.0, 1.0)
        scores["half_space_trees"][rows] = hst_online_scores(features, seed=int(mote))
        scores["robust_z"][rows] = robust_z_scores(network.values[rows])
        test[rows[int(len(rows) * TRAIN_SHARE) :]] = True
    labels = network.label[test]
    hits = int((flagged[test] & (labels == 1)).sum())
    return {
        "test_readings": int(test.sum()),
        "test_anomalies": int(labels.sum()),
        **{name: _ranking(labels, s[test]) for name, s in scores.items()},
        "lstm_adaptive_threshold_labels": {
            "flagged": int(flagged[test].sum()),
            "precision": hits / max(int(flagged[test].sum()), 1),
            "recall": hits / max(int(labels.sum()), 1),
        },
    }


def evaluate_fleet(
    model: SensorModel,
    n_units: int = 40,
    seed: int = TEST_SEED,
    days: float = 3.0,
    max_delay_minutes: float = 3.0,
    int8: bool = False,
    noise_scale: float = 1.0,
) -> dict[str, Any]:
    """Failure-warning figures (see ``scoring.py``) and spike-detection AUC on a held-out simulated fleet;
    ``noise_scale`` above 1 is a robustness check with more measurement noise than the model was trained on.
    """
    fleet = simulate(n_units, seed=held_out_seed(seed), days=days, prefix="test", noise_scale=noise_scale)
    rng = np.random.default_rng(seed)
    arrival = fleet.minute * STEP_S + fleet.offset_s + rng.uniform(0.0, max_delay_minutes * 60.0, len(fleet.minute))
    order = np.argsort(arrival, kind="stable")
    verdicts = run_monitor(SensorMonitor(model, int8=int8), [fleet.reading(int(i)) for i in order])
    per_unit: dict[int, list[tuple[float, SensorVerdict]]] = {u: [] for u in range(fleet.n_units)}
    for i, verdict in zip(order, verdicts, strict=True):
        per_unit[int(fleet.unit[i])].append((float(fleet.minute[i]), verdict))
    leads, false, n_episodes = [], 0, 0
    unit_minutes = 0.0
    for u, seen in per_unit.items():
        last_minute = max(m for m, _ in seen)
        unit_minutes += last_minute + 1
        episodes = _episodes(seen, last_minute)
        lead, n_false = unit_outcome(episodes, last_minute, float(fleet.failure_minute[u]))
        if not np.isnan(fleet.failure_minute[u]):
            leads.append(lead)
        false += n_false
        n_episodes += len(episodes)
    warm = np.array([v.scorer == "lstm" for v in verdicts])
    spike_scores = np.array([v.score for v in verdicts])[warm]
    result = summarise(leads, false, n_episodes, unit_minutes / 1440.0, model.horizon_minutes)
    return {
        "units": fleet.n_units,
        "seed": seed,
        "noise_scale": noise_scale,
        "unit_days": unit_minutes / 1440.0,
        **result,
        "spike_detection": _ranking(fleet.spike[order][warm].astype(int), spike_scores),
        "anomaly_label_rate": float(np.mean([v.label == "anomaly" for v in verdicts])),
    }


def _episodes(seen: list[tuple[float, SensorVerdict]], last_minute: float) -> list[tuple[float, float]]:
    """Warning episodes from verdicts in arrival order: on at the first ``failure_warning``, off at the next other."""
    episodes = []
    start = None
    for minute, verdict in seen:
        on = verdict.label == "failure_warning"
        if on and start is None:
            start = minute
        elif not on and start is not None and verdict.scorer == "lstm":
            episodes.append((start, minute))
            start = None
    if start is not None:
        episodes.append((start, last_minute))
    return episodes
