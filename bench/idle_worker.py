"""What one worker with no traffic costs: its CPU share, and Kafka's and Elasticsearch's, once it is ready.

A worker that polls the broker with empty fetches burns CPU on both sides while nothing happens; on a shared
machine that CPU is taken from the workers that do have traffic. The script starts Kafka and Elasticsearch if
needed, starts one worker, waits for its ``/ready``, lets it settle, then reads the CPU time of the three processes
over ``--seconds``. Fetch settings come from the environment, as for the worker:

    python bench/idle_worker.py --stream payments
    STREAMSENSE_CONSUMER_FETCH_MIN_BYTES=65536 STREAMSENSE_CONSUMER_FETCH_MAX_WAIT_MS=5 python bench/idle_worker.py

Prints one JSON object; shares are of one core.
"""

import argparse
import json
import signal
import time

import psutil
from machine_cpu import tree_cpu_s

from streamsense.infra.local.launcher import LocalInfra
from streamsense.settings import get_settings
from streamsense.streams.readiness import wait_until_ready
from streamsense.streams.worker import free_port, spawn_worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stream", default="payments")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--settle-s", type=float, default=20.0, help="wait after ready before measuring")
    args = parser.parse_args()
    settings = get_settings()
    infra = LocalInfra(settings)
    infra.up()
    services = {s.name: psutil.Process(s.pid) for s in infra.status() if s.pid is not None}
    port = free_port()
    worker = spawn_worker(args.stream, settings, port, settings.state_dir / "bench-logs" / f"idle-{args.stream}.log")
    try:
        started = time.monotonic()
        wait_until_ready(worker, port)
        ready_s = time.monotonic() - started
        time.sleep(args.settle_s)
        processes = {"worker": psutil.Process(worker.pid), **services}
        before = {name: tree_cpu_s(p) for name, p in processes.items()}
        began = time.monotonic()
        time.sleep(args.seconds)
        elapsed = time.monotonic() - began
        shares = {name: round((tree_cpu_s(p) - before[name]) / elapsed, 3) for name, p in processes.items()}
        print(
            json.dumps(
                {
                    "stream": args.stream,
                    "fetch_min_bytes": settings.consumer_fetch_min_bytes,
                    "fetch_max_wait_ms": settings.consumer_fetch_max_wait_ms,
                    "ready_s": round(ready_s, 1),
                    "seconds": args.seconds,
                    "cpu_share_of_one_core": shares,
                }
            )
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)


if __name__ == "__main__":
    main()
