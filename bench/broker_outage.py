"""A Kafka outage under load: what a payments worker spends while the broker is away, and how it catches up.

Starts Kafka and Elasticsearch if needed and one payments worker; once it is ready, publishes transactions at
``--rate`` for ``--send-s`` seconds, stops Kafka ``--down-after-s`` into that, keeps it down ``--down-s``, starts it
again and waits until every transaction has its decision in Elasticsearch. While the broker is away it reads the
worker's CPU share, how fast its log grows and its failed metadata updates (a client that retries them without a
pause spins on them):

    python bench/broker_outage.py

Prints one JSON object.
"""

import argparse
import json
import signal
import threading
import time
import uuid

import psutil
from elasticsearch import Elasticsearch
from machine_cpu import tree_cpu_s
from pipeline import decided_at, publish, traffic

from streamsense.infra.local.launcher import LocalInfra
from streamsense.settings import get_settings
from streamsense.streams.admin import ensure_topics
from streamsense.streams.connections import elasticsearch_options
from streamsense.streams.decision_log import install_templates
from streamsense.streams.producer import EventProducer
from streamsense.streams.readiness import wait_until_ready
from streamsense.streams.topics import PAYMENTS_TRANSACTIONS, STREAMS
from streamsense.streams.worker import free_port, spawn_worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="transactions per second")
    parser.add_argument("--send-s", type=float, default=30.0)
    parser.add_argument("--down-after-s", type=float, default=5.0)
    parser.add_argument("--down-s", type=float, default=20.0)
    args = parser.parse_args()
    settings = get_settings()
    infra = LocalInfra(settings)
    infra.up()
    ensure_topics(settings)
    install_templates(settings)
    es = Elasticsearch(**elasticsearch_options(settings), request_timeout=60)
    seed = uuid.uuid4().int % 1_000_000  # new event ids, not the decisions of an earlier run
    events = [e for e in traffic("payments", int(args.rate * args.send_s), seed) if e[0] == PAYMENTS_TRANSACTIONS]
    ids = {e.event_id for _, _, e in events}
    port = free_port()
    log = settings.state_dir / "bench-logs" / "broker-outage-payments.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    worker = spawn_worker("payments", settings, port, log, name="bench-outage")
    try:
        wait_until_ready(worker, port)
        process = psutil.Process(worker.pid)
        sender = threading.Thread(target=publish, args=(EventProducer(settings), events, args.rate))
        sender.start()
        time.sleep(args.down_after_s)
        infra.stop("kafka")  # waits for the broker to exit: its shutdown, while the worker still decides, not counted
        cpu, log_bytes = tree_cpu_s(process), log.stat().st_size
        began = time.monotonic()
        time.sleep(args.down_s)
        down_s = time.monotonic() - began
        with log.open("rb") as written:
            written.seek(log_bytes)
            grown = written.read()
        away = {
            "seconds": round(down_s, 1),
            "worker_cpu_share_of_one_core": round((tree_cpu_s(process) - cpu) / down_s, 3),
            "worker_log_bytes_per_s": round(len(grown) / down_s),
            "failed_metadata_updates_per_s": round(grown.count(b"Unable to update metadata") / down_s, 1),
        }
        infra.start_kafka()
        restarted = time.time()
        sender.join()
        found = decided_at(es, STREAMS["payments"].index, ids, 300, lambda: None)
        print(
            json.dumps(
                {
                    "rate": args.rate,
                    "transactions": len(ids),
                    "broker_away": away,
                    "decided": len(found),
                    "last_decision_after_restart_s": round(max(found.values()) - restarted, 1) if found else None,
                }
            )
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)


if __name__ == "__main__":
    main()
