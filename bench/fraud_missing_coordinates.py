"""Fraud scores of transactions that name no coordinates, against the same transactions with them.

The schema makes coordinates optional. Scores one simulated stream (a seed the model was not trained on) three
ways with the newest artifact under ``get_settings().artifact_dir / "fraud"`` (``streamsense train fraud`` first):
with coordinates; without, the booster walking the ``distance`` sentinel as it is; without, the mean over the
training distances (``FraudArtifact.margin_and_contribs``). Prints one JSON object: per way the mean score, the
alert rate at the version's threshold, ROC AUC and precision / recall against the simulator's truth.

    python bench/fraud_missing_coordinates.py [--days 40] [--warmup-days 30]
"""

import argparse
import json

import numpy as np
from sklearn.metrics import roc_auc_score

from streamsense.datasets.fraud_simulator import SimulatorConfig, simulate
from streamsense.models.fraud.scorer import FraudScorer, new_account_state, new_terminal_state
from streamsense.schemas.payments import Transaction
from streamsense.settings import get_settings

BATCH = 200


def scores(scorer: FraudScorer, txs: list[Transaction], warm: int) -> np.ndarray:
    """The scores of ``txs[warm:]`` in order, from fresh states warmed on ``txs[:warm]``."""
    accounts: dict[str, dict] = {}
    terminals: dict[str, dict] = {}

    def states(tx: Transaction) -> tuple[dict, dict]:
        return (
            accounts.setdefault(tx.account_id, new_account_state()),
            terminals.setdefault(tx.terminal_id, new_terminal_state()),
        )

    for tx in txs[:warm]:
        scorer.update_state(tx, *states(tx))
    out = []
    for start in range(warm, len(txs), BATCH):
        chunk = txs[start : start + BATCH]
        pairs = [states(tx) for tx in chunk]
        out += [s.score for s in scorer.score_many(chunk, [a for a, _ in pairs], [t for _, t in pairs])]
    return np.asarray(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--warmup-days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=99)
    args = parser.parse_args()
    scorer = FraudScorer.from_artifacts(get_settings().artifact_dir / "fraud", check_every_s=3600.0)
    artifact = scorer.registry.current() if scorer.registry else None
    if artifact is None:
        raise SystemExit("no fraud artifact: run `streamsense train fraud` first")
    sim = simulate(SimulatorConfig(n_customers=2_000, n_terminals=4_000, n_days=args.days, seed=args.seed))
    with_coords = [sim.transaction(i) for i in range(len(sim))]
    unplaced = {"customer_x": None, "customer_y": None, "terminal_x": None, "terminal_y": None}
    without = [tx.model_copy(update=unplaced) for tx in with_coords]
    warm = int(np.searchsorted(sim.day, args.warmup_days))
    truth = sim.is_fraud[warm:].astype(bool)
    grid = artifact.distances
    ways = {"with_coordinates": (with_coords, grid), "without_sentinel_walked": (without, np.zeros(0))}
    ways["without_mean_over_distances"] = (without, grid)
    report: dict[str, object] = {
        "model_version": artifact.version_name,
        "threshold": round(artifact.threshold, 4),
        "transactions": len(truth),
        "frauds": int(truth.sum()),
        "distance_grid": [round(float(d), 3) for d in grid],
    }
    for name, (txs, distances) in ways.items():
        artifact.distances = distances
        got = scores(scorer, txs, warm)
        alerts = got >= artifact.threshold
        report[name] = {
            "mean_score": round(float(got.mean()), 5),
            "alert_rate": round(float(alerts.mean()), 5),
            "roc_auc": round(float(roc_auc_score(truth, got)), 4),
            "precision": round(float(truth[alerts].mean()), 4) if alerts.any() else None,
            "recall": round(float(alerts[truth].mean()), 4),
        }
    artifact.distances = grid
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
