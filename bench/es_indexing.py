"""What logging payments decisions costs the Elasticsearch node, apart from everything else on the machine.

``bench/pipeline.py`` reports the node's CPU per transaction, but that also pays for the benchmark's own searches for
decisions. Here the documents a payments worker logged (its decisions and what awaits their labels: run
``bench/pipeline.py --streams payments`` or ``make demo`` first) are copied into scratch indices with the same
settings and mappings, one decision and one awaiting entry per transaction as the worker sends them, in bulk requests
of each ``--bulk`` size (transactions per request), and the node's CPU time is read around the indexing.

    python bench/es_indexing.py [--transactions 10000] [--bulk 200,5] [--also-decisions-alone]

Prints one JSON object; deletes its scratch indices.
"""

import argparse
import json
import time
import uuid

from elasticsearch import Elasticsearch, helpers
from machine_cpu import MachineCpu

from streamsense.infra.local.launcher import LocalInfra
from streamsense.settings import get_settings
from streamsense.streams.connections import elasticsearch_options
from streamsense.streams.decision_log import bulk_body
from streamsense.streams.index_templates import TEMPLATES
from streamsense.streams.topics import AWAITING_LABELS_INDEX, STREAMS


def logged_pairs(es: Elasticsearch, transactions: int) -> list[tuple[dict, dict]]:
    """Up to ``transactions`` payments decisions with the awaiting entry logged beside each."""
    pairs: list[tuple[dict, dict]] = []
    decisions = helpers.scan(es, index=STREAMS["payments"].index, query={"query": {"match_all": {}}}, size=1_000)
    batch: list[dict] = []
    for hit in decisions:
        batch.append(hit)
        if len(batch) == 1_000 or len(pairs) + len(batch) >= transactions:
            found = es.mget(index=AWAITING_LABELS_INDEX, ids=[h["_id"] for h in batch])["docs"]
            pairs += [(h["_source"], doc["_source"]) for h, doc in zip(batch, found, strict=True) if doc.get("found")]
            batch = []
            if len(pairs) >= transactions:
                break
    return pairs[:transactions]


def index_pairs(
    es: Elasticsearch, pairs: list[tuple[dict, dict]], per_bulk: int, machine: MachineCpu, awaiting_too: bool
) -> dict:
    """Index the pairs into new scratch indices, ``per_bulk`` transactions per request; CPU per transaction. Without
    ``awaiting_too``, only the decisions."""
    run = uuid.uuid4().hex[:8]
    decisions, awaiting = f"bench-es-{run}-decisions", f"bench-es-{run}-awaiting"
    for name, template in ((decisions, "streamsense-decisions"), (awaiting, "streamsense-fraud-awaiting-labels")):
        es.indices.create(index=name, **TEMPLATES[template]["template"])

    def actions(n: int, decision: dict, entry: dict) -> list[dict]:
        logged = [(decisions, decision), (awaiting, entry)] if awaiting_too else [(decisions, decision)]
        return [{"_op_type": "index", "_index": index, "_id": f"tx-{n}", "_source": doc} for index, doc in logged]

    bodies = [
        bulk_body(
            action
            for n, (decision, entry) in enumerate(pairs[start : start + per_bulk], start)
            for action in actions(n, decision, entry)
        )
        for start in range(0, len(pairs), per_bulk)
    ]
    try:
        before, began = machine.cpu_s(), time.perf_counter()
        for body in bodies:
            response = es.bulk(operations=body)
            if response["errors"]:
                failed = [item for item in response["items"] if "error" in next(iter(item.values()))]
                raise RuntimeError(f"{len(failed)} documents refused, the first: {failed[0]}")
        elapsed = time.perf_counter() - began
        es.indices.refresh(index=[decisions, awaiting])  # the refresh every second would come anyway
        after = machine.cpu_s()
    finally:
        es.indices.delete(index=[decisions, awaiting], ignore_unavailable=True)
    return {
        "documents": "decision and awaiting entry" if awaiting_too else "decision only",
        "transactions_per_bulk": per_bulk,
        "requests": len(bodies),
        "transactions_per_s": round(len(pairs) / elapsed, 1),
        "cpu_us_per_transaction": {k: round((after[k] - before[k]) * 1e6 / len(pairs), 1) for k in before},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=10_000)
    parser.add_argument("--bulk", default="200,5", help="transactions per bulk request, comma-separated")
    parser.add_argument(
        "--also-decisions-alone", action="store_true", help="then index the decisions again without awaiting entries"
    )
    args = parser.parse_args()
    settings = get_settings()
    LocalInfra(settings).up()
    es = Elasticsearch(**elasticsearch_options(settings), request_timeout=120)
    pairs = logged_pairs(es, args.transactions)
    if not pairs:
        raise SystemExit("no logged payments decisions: run bench/pipeline.py --streams payments or make demo first")
    machine = MachineCpu(settings)
    report = {
        "transactions": len(pairs),
        "results": [
            index_pairs(es, pairs, int(n), machine, awaiting_too)
            for awaiting_too in ((True, False) if args.also_decisions_alone else (True,))
            for n in args.bulk.split(",")
        ],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
