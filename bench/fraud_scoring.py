"""Fraud scoring throughput and latency: features + online model + XGBoost blend + reasons, on one core.

Uses the newest artifact under ``get_settings().artifact_dir / "fraud"`` (run ``streamsense train fraud`` first), or
trains a small one into a temporary folder if there is none. Traffic is a fresh simulator seed; the first days warm the
account/terminal state and are not timed. Prints one JSON object: per-event ``score_one`` + ``update_state`` latency
(p50/p99, wall clock and this thread's CPU time, which leaves out time the machine gave to other processes) and
throughput, and micro-batched ``score_many`` throughput. Throughput is per core: CPU seconds of this
process (other tenants of a shared machine do not count), with wall-clock figures alongside.

    python bench/fraud_scoring.py [--events 20000] [--batch 200]
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from streamsense.datasets.fraud_simulator import SimulatorConfig, simulate
from streamsense.models.fraud.artifact import TrainingChoices, list_versions, save
from streamsense.models.fraud.experiment import ExperimentConfig, run
from streamsense.models.fraud.scorer import FraudScorer, new_account_state
from streamsense.schemas.payments import Transaction
from streamsense.settings import get_settings


def _scorer(root: Path) -> FraudScorer:
    if not list_versions(root):
        result = run(ExperimentConfig(n_customers=600, n_terminals=1_200, choices=TrainingChoices(gan="off")))
        save(result.artifact, root)
    scorer = FraudScorer.from_artifacts(root, check_every_s=3600.0)
    if scorer.registry is None or scorer.registry.current() is None:
        raise RuntimeError(f"no fraud artifact under {root}")
    return scorer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--warmup-days", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    root = get_settings().artifact_dir / "fraud"
    with tempfile.TemporaryDirectory() as tmp:
        scorer = _scorer(root if list_versions(root) else Path(tmp))
        sim = simulate(SimulatorConfig(n_customers=2_000, n_terminals=4_000, n_days=args.warmup_days + 10, seed=99))
        txs = [sim.transaction(i) for i in range(len(sim))]
        accounts: dict[str, dict] = {}
        terminals: dict[str, dict] = {}

        def states(tx: Transaction) -> tuple[dict, dict]:
            return (
                accounts.setdefault(tx.account_id, new_account_state()),
                terminals.setdefault(tx.terminal_id, new_account_state()),
            )

        warm = int(np.searchsorted(sim.day, args.warmup_days))
        for tx in txs[:warm]:
            acct, term = states(tx)
            scorer.update_state(tx, acct, term)
        timed = txs[warm : warm + 2 * args.events]
        single, batched = timed[: args.events], timed[args.events :]

        latencies = np.empty(len(single))
        cpu_latencies = np.empty(len(single))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for k, tx in enumerate(single):
            t0, c0 = time.perf_counter(), time.thread_time()
            acct, term = states(tx)
            scorer.score_one(tx, acct, term)
            scorer.update_state(tx, acct, term)
            latencies[k] = time.perf_counter() - t0
            cpu_latencies[k] = time.thread_time() - c0
        single_cpu, single_wall = time.process_time() - cpu0, time.perf_counter() - wall0

        cpu0, wall0 = time.process_time(), time.perf_counter()
        for start in range(0, len(batched), args.batch):
            chunk = batched[start : start + args.batch]
            pairs = [states(tx) for tx in chunk]
            scorer.score_many(chunk, [a for a, _ in pairs], [t for _, t in pairs])
        batch_cpu, batch_wall = time.process_time() - cpu0, time.perf_counter() - wall0

    artifact = scorer.registry.current()
    print(
        json.dumps(
            {
                "model_version": artifact.version_name,
                "trees": int(artifact.compiled.left.shape[0]),
                "features": len(scorer.pipeline.names),
                "load_average_1m": round(os.getloadavg()[0], 2),
                "score_one": {
                    "events": len(single),
                    "tx_per_s_per_core": round(len(single) / single_cpu),
                    "tx_per_s_wall": round(len(single) / single_wall),
                    "latency_ms_p50": round(float(np.percentile(latencies, 50)) * 1e3, 4),
                    "latency_ms_p99": round(float(np.percentile(latencies, 99)) * 1e3, 4),
                    "cpu_latency_ms_p50": round(float(np.percentile(cpu_latencies, 50)) * 1e3, 4),
                    "cpu_latency_ms_p99": round(float(np.percentile(cpu_latencies, 99)) * 1e3, 4),
                },
                "score_many": {
                    "events": len(batched),
                    "batch": args.batch,
                    "tx_per_s_per_core": round(len(batched) / batch_cpu),
                    "tx_per_s_wall": round(len(batched) / batch_wall),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
