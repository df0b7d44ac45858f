"""The drift job on its proof data (``datasets/drift_proof.py``: payments amounts x1.6 from day 11), on the running
local node: what it flags and how long a run takes.

Start the node first (``streamsense infra up``); the proof decisions and labels are logged under their own model name
(indexing the same ids again overwrites them), then the job compares the reference days 8-10 with the current days
11-13 as ``streamsense drift run --stream payments --reference-from 2026-04-09 --reference-to 2026-04-12
--current-from 2026-04-12 --current-to 2026-04-15`` does.

    python bench/drift_proof.py [--runs 2]

Prints one JSON object: per feature its PSI (and level), the rows that crossed a threshold, the adversarial AUC, and
the wall time of each run of the job (without the CLI's start-up).
"""

import argparse
import asyncio
import json
import time

from elasticsearch import Elasticsearch

from streamsense.datasets.drift_proof import CURRENT, MODEL, REFERENCE, decisions_and_labels
from streamsense.settings import get_settings
from streamsense.streams.connections import elasticsearch_options
from streamsense.streams.decision_log import DecisionLog, install_templates
from streamsense.streams.drift_job import run_drift
from streamsense.streams.metrics import WorkerMetrics
from streamsense.streams.topics import STREAMS, label_index


async def _log(decisions: list[dict], labels: list[dict]) -> list:
    log = DecisionLog(get_settings(), WorkerMetrics())
    try:
        return await log.write(decisions) + await log.write(labels)
    finally:
        await log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="runs of the job, each timed")
    parser.add_argument("--seed", type=int, default=3, help="the simulator's seed (the integration test's is 3)")
    args = parser.parse_args()
    settings = get_settings()
    install_templates(settings)
    es = Elasticsearch(**elasticsearch_options(settings))
    decisions, labels = decisions_and_labels(args.seed)
    rejected = asyncio.run(_log(decisions, labels))
    es.indices.refresh(index=[STREAMS["payments"].index, label_index("payments")])
    seconds, run = [], None
    for _ in range(args.runs):
        start = time.perf_counter()
        run = next(r for r in run_drift(settings, "payments", REFERENCE, CURRENT, es) if r.model == MODEL)
        seconds.append(round(time.perf_counter() - start, 2))
    assert run is not None
    rows = run.report.features
    print(
        json.dumps(
            {
                "decisions": len(decisions),
                "labels": len(labels),
                "rejected": len(rejected),
                "reference_size": run.report.reference_size,
                "current_size": run.report.current_size,
                "psi": {f.feature: [round(f.value, 4), f.level] for f in rows if f.statistic == "psi"},
                "crossed": run.crossed,
                "adversarial_auc": next(round(f.value, 4) for f in rows if f.statistic == "adversarial_auc"),
                "job_seconds": seconds,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
