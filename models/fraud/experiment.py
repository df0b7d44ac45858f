"""The time-ordered fraud experiment on the simulator, shared by ``train fraud`` and ``eval fraud``.

Timeline (days): warm-up (state fills, nothing used) | train | gap | validation | gap | test. XGBoost is trained at
the end of the first gap on train transactions whose labels had arrived by then. The blend, its calibration, the
threshold and the GAN on/off choice (``auto``: on only if it raises validation average precision) are fitted at the
end of the second gap on validation transactions with arrived labels; the test period is only scored. The online model
runs prequentially over the whole stream: every transaction is scored before any label of it is known, and it learns
each label when it arrives.

Every card in the simulator has a history, so the booster also learns cold copies of a seeded ``cold_share`` of the
training transactions: each scored as if its account, then its account and terminal, were new (``replay``). The
report's ``cold_start`` section scores every test transaction those ways too.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.metrics import average_precision_score

from streamsense.datasets.fraud_simulator import (
    AGE_BANDS,
    DAY_S,
    GENDERS,
    SCENARIO_AMOUNT,
    SCENARIO_CUSTOMER,
    SCENARIO_TERMINAL,
    SimulatedPayments,
    SimulatorConfig,
    simulate,
)
from streamsense.models.fraud.artifact import FraudArtifact, TrainingChoices, distance_grid
from streamsense.models.fraud.blend import Blend, expected_calibration_error
from streamsense.models.fraud.features import COLD, FeatureConfig, FraudFeaturePipeline
from streamsense.models.fraud.metrics import ranking_metrics, threshold_metrics
from streamsense.models.fraud.online import OnlineFraudModel
from streamsense.models.fraud.replay import ColdCopies, ReplayResult, replay
from streamsense.models.fraud.training import fit_booster, fit_decision
from streamsense.models.fraud.xgb_model import XGBParams, margin

RECIPE = 2
"""What the training does, kept in each artifact's metrics: 2 added the cold copies; ``train fraud --if-missing``
retrains a cache that no version of this recipe is in."""


@dataclass(frozen=True)
class Periods:
    """Lengths in days of each period of the time-ordered split."""

    warmup: int = 30
    train: int = 28
    gap: int = 7
    validation: int = 14
    test: int = 14

    @property
    def total(self) -> int:
        return self.warmup + self.train + 2 * self.gap + self.validation + self.test


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines a run; the same config gives the same numbers."""

    n_customers: int = 2_500
    n_terminals: int = 5_000
    seed: int = 0
    periods: Periods = field(default_factory=Periods)
    xgb: XGBParams = field(default_factory=XGBParams)
    feature_config: dict[str, Any] = field(default_factory=lambda: FeatureConfig().to_dict())
    choices: TrainingChoices = field(default_factory=TrainingChoices)
    gan_ratio: float = 1.0


@dataclass
class ExperimentResult:
    """The artifact as evaluated, the warm online model and feature state, the report and the test decisions."""

    artifact: FraudArtifact
    replayed: ReplayResult
    report: dict[str, Any]
    test_rows: list[dict[str, Any]]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _ap(y: np.ndarray, score: np.ndarray) -> float:
    return round(float(average_precision_score(y, score)), 4)


def run(config: ExperimentConfig | None = None) -> ExperimentResult:
    """Simulate, replay, train, calibrate on validation, score the test period; returns the report and artifact."""
    cfg = config or ExperimentConfig()
    p = cfg.periods
    sim = simulate(
        SimulatorConfig(n_customers=cfg.n_customers, n_terminals=cfg.n_terminals, n_days=p.total, seed=cfg.seed)
    )
    y, day = sim.is_fraud.astype(int), sim.day
    train_start = p.warmup
    train_cutoff = train_start + p.train + p.gap
    val_start = train_cutoff
    val_cutoff = val_start + p.validation + p.gap
    test_start = val_cutoff
    known_at = sim.label_time_s / DAY_S
    train = (day >= train_start) & (day < train_start + p.train) & (known_at < train_cutoff)
    val = (day >= val_start) & (day < val_start + p.validation) & (known_at < val_cutoff)
    test = (day >= test_start) & (day < test_start + p.test)
    copied = np.random.default_rng(cfg.seed).uniform(size=len(sim)) < cfg.choices.cold_share
    pipeline = FraudFeaturePipeline(cfg.feature_config)
    replayed = replay(sim, pipeline, OnlineFraudModel(seed=cfg.seed), cold=test | ((train | val) & copied))
    X = replayed.X

    online_logit = _logit(replayed.online_score)
    X_train, y_train = _with_cold_copies(X, y, train, replayed.cold)
    choice = fit_booster(X_train, y_train, X[val], y[val], replayed.names, cfg.xgb, cfg.choices.gan, cfg.gan_ratio)
    booster = choice.booster
    xgb_margin = margin(booster, X)
    gan_report = dict(choice.report)
    gan_report["test_ap_without"] = _ap(y[test], margin(choice.plain, X[test]))
    if choice.augmented is not None:
        gan_report["test_ap_with"] = _ap(y[test], margin(choice.augmented, X[test]))
    blend, threshold = fit_decision(online_logit[val], xgb_margin[val], y[val], cfg.choices)
    combined = blend.score_many(online_logit, xgb_margin)

    def on_test(score: np.ndarray) -> dict[str, float]:
        return ranking_metrics(day[test], sim.customer[test], score[test], y[test])

    report: dict[str, Any] = {
        "data": {
            "simulator": asdict(sim.config),
            "periods_days": asdict(p),
            "n_transactions": len(sim),
            "fraud_rate": round(float(y.mean()), 5),
            "n_train": int(train.sum()),
            "n_train_cold_copies": len(y_train) - int(train.sum()),
            "n_validation": int(val.sum()),
            "n_test": int(test.sum()),
            "test_frauds": int(y[test].sum()),
        },
        "online": on_test(replayed.online_score),
        "xgboost": on_test(xgb_margin),
        "combined": on_test(combined)
        | {
            "brier": round(float(np.mean((combined[test] - y[test]) ** 2)), 6),
            "expected_calibration_error": round(expected_calibration_error(combined[test], y[test]), 6),
            "at_threshold": threshold_metrics(combined[test], y[test], threshold),
            "blend": blend.to_dict(),
            "threshold_rule": cfg.choices.threshold_rule(),
        },
        "threshold_by_validation_frauds": threshold_by_validation_frauds(
            online_logit, xgb_margin, y, val, test, cfg.choices
        ),
        "gan_augmentation": gan_report,
        "cold_start": _cold_start(sim, replayed.cold, test, booster, blend, threshold, combined),
        "features": replayed.names,
    }
    artifact = FraudArtifact(
        booster=booster,
        names=replayed.names,
        feature_config=pipeline.config.to_dict(),
        blend=blend,
        threshold=threshold,
        metrics={k: report[k] for k in ("online", "xgboost", "combined", "gan_augmentation", "data")}
        | {"recipe": RECIPE},
        choices=cfg.choices,
        distances=distance_grid(replayed.X, replayed.names),
    )
    return ExperimentResult(artifact, replayed, report, _test_rows(sim, test, combined, threshold))


def _with_cold_copies(
    X: np.ndarray, y: np.ndarray, rows: np.ndarray, cold: ColdCopies
) -> tuple[np.ndarray, np.ndarray]:
    """The chosen rows, then the cold copies made of them (of every kind), with their labels."""
    pick = rows[cold.index]
    X_cold = [cold.X[kind][pick] for kind in COLD]
    y_cold = [y[cold.index[pick]]] * len(COLD)
    return np.vstack([X[rows], *X_cold]), np.concatenate([y[rows], *y_cold])


def _by_scenario(scenario: np.ndarray, flagged: np.ndarray) -> dict[str, float]:
    """Recall at the threshold per fraud scenario."""
    names = {SCENARIO_AMOUNT: "amount", SCENARIO_TERMINAL: "terminal", SCENARIO_CUSTOMER: "customer"}
    present = [(code, name) for code, name in names.items() if (scenario == code).any()]
    return {name: round(float(flagged[scenario == code].mean()), 4) for code, name in present}


def _cold_start(
    sim: SimulatedPayments,
    cold: ColdCopies,
    test: np.ndarray,
    booster: xgb.Booster,
    blend: Blend,
    threshold: float,
    combined: np.ndarray,
) -> dict[str, Any]:
    """The test transactions scored as they came, then as if on a new account (at a known, then a new terminal):
    average precision, and recall at the threshold per scenario. Amount frauds need no history to be caught."""
    pick = test[cold.index]
    idx = cold.index[pick]
    y, scenario = sim.is_fraud[idx].astype(int), sim.scenario[idx]
    out: dict[str, Any] = {}
    scored = {"as_seen": combined[idx]} | {
        kind: blend.score_many(_logit(cold.online_score[kind][pick]), margin(booster, cold.X[kind][pick]))
        for kind in COLD
    }
    for kind, score in scored.items():
        flagged = score >= threshold
        out[kind] = {
            "average_precision": _ap(y, score),
            "recall_by_scenario": _by_scenario(scenario, flagged),
            "alert_rate_genuine": round(float(flagged[y == 0].mean()), 6),
        }
    return out


def threshold_by_validation_frauds(
    online_logit: np.ndarray,
    xgb_margin: np.ndarray,
    y: np.ndarray,
    val: np.ndarray,
    test: np.ndarray,
    choices: TrainingChoices,
    sizes: tuple[int, ...] = (20, 50, 100, 200),
    windows: int = 30,
) -> dict[str, dict[str, float]]:
    """How a blend and threshold fitted on few validation frauds hold on the test period, as a worker's retraining
    fits them on its latest labels: for each size k, windows of consecutive validation transactions holding k frauds
    each (starting at evenly spaced transactions), each fitted alone and read on every test transaction."""
    v_logit, v_margin, v_y = online_logit[val], xgb_margin[val], y[val]
    t_logit, t_margin, t_y = online_logit[test], xgb_margin[test], y[test]
    frauds_before = np.concatenate([[0], np.cumsum(v_y)])
    out = {}
    for k in sizes:
        read = []
        for start in np.unique(np.linspace(0, len(v_y) - 1, windows).astype(int)):
            end = int(np.searchsorted(frauds_before, frauds_before[start] + k))
            if end > len(v_y):
                continue
            window = slice(start, end)
            blend, threshold = fit_decision(v_logit[window], v_margin[window], v_y[window], choices)
            read.append(threshold_metrics(blend.score_many(t_logit, t_margin), t_y, threshold))
        if read:
            precision = np.array([r["precision"] for r in read])
            alert_rate = np.array([r["alert_rate"] for r in read])
            out[str(k)] = {
                "windows": len(read),
                "test_precision_mean": round(float(precision.mean()), 4),
                "test_precision_p10": round(float(np.quantile(precision, 0.1)), 4),
                "test_precision_min": round(float(precision.min()), 4),
                "test_recall_mean": round(float(np.mean([r["recall"] for r in read])), 4),
                "test_alert_rate_p10": round(float(np.quantile(alert_rate, 0.1)), 6),
                "test_alert_rate_p90": round(float(np.quantile(alert_rate, 0.9)), 6),
            }
    return out


def _test_rows(sim: SimulatedPayments, test: np.ndarray, score: np.ndarray, threshold: float) -> list[dict[str, Any]]:
    """Test decisions with the audit attributes (never features) for the fairness report."""
    idx = np.flatnonzero(test)
    cust = sim.customer[idx]
    return [
        {
            "age_band": AGE_BANDS[a],
            "gender": GENDERS[g],
            "is_fraud": bool(f),
            "flagged": bool(s >= threshold),
            "score": round(float(s), 6),
        }
        for a, g, f, s in zip(
            sim.age_band[cust].tolist(),
            sim.gender[cust].tolist(),
            sim.is_fraud[idx].tolist(),
            score[idx].tolist(),
            strict=True,
        )
    ]
