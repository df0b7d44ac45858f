"""How long a hand-over stalls a stream when one of two workers leaves under load, with and without standby replicas.

Two workers of one stream share its partitions. Traffic flows at ``--rate`` events/s for ``--build-s`` seconds, so
that the tables hold state; then the second worker leaves (``--stop term``: a graceful stop, as in a rolling update
or a scale-in; ``kill``: ``kill -9``, found only when its session times out) while the traffic goes on for
``--after-s`` seconds. The first worker takes over the leaver's partitions: without standbys it first rebuilds
their tables from the changelogs; with one standby (``STREAMSENSE_TABLE_STANDBY_REPLICAS=1``) it has kept a copy
of them up to date all along and reads only what the leaver wrote last. Faust's rebalance pauses every partition
until the new assignment's tables are recovered, so the hand-over shows in every event sent around it.

Each run's workers have fresh names (no tables on disk) and are removed afterwards; ``--standby 0,1,1,0`` runs the
settings in that order (alternating, so that a slow machine or a warming broker favours neither). ``--fresh`` gives
each run a Kafka and an Elasticsearch of its own, started in a new state folder and removed after it, so that no run
recovers what an earlier one left in the changelogs (start it with no local Kafka or Elasticsearch running). Per
run: the latency (send to decision time) of events sent in the 30 s before the stop and of those sent after it, and
the p99 of those sent in each 10 s after it; ``longest_pause_s``, the longest time after the stop with no decision
logged, beside the longest in the 30 s before it; the changelog records the stream's tables hold at the stop (what
a rebuild reads, both workers' partitions); the workers' CPU per event before the stop (a standby's cost); and any
decisions missing.

    python bench/handover.py                                  # payments, standby 0,1,1,0, graceful stop
    python bench/handover.py --fresh --standby 0,1,1,0,0,1
    python bench/handover.py --stop kill --standby 0,1

Prints one JSON object. Needs the trained artifacts (``make train``); starts Kafka and Elasticsearch if needed.
"""

import argparse
import itertools
import json
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path

import numpy as np
from elasticsearch import Elasticsearch
from pipeline import DECIDED_INPUT, Workers, decided_at, percentiles_ms, soak_traffic
from recovery import changelog_contents

from streamsense.infra.local.launcher import LocalInfra
from streamsense.settings import Settings, get_settings
from streamsense.streams.admin import ensure_topics
from streamsense.streams.app import worker_datadir
from streamsense.streams.connections import elasticsearch_options
from streamsense.streams.decision_log import install_templates
from streamsense.streams.producer import EventProducer, paced
from streamsense.streams.topics import STREAMS
from streamsense.streams.worker import worker_environment

BEFORE_S = 30.0
"""The window before the stop whose events give the undisturbed latency."""


class Sender(threading.Thread):
    """Sends ``stream`` events at ``rate`` until stopped, noting when each decided event was handed over."""

    def __init__(self, settings: Settings, stream: str, rate: float, seed: int, customers: int) -> None:
        super().__init__(daemon=True)
        self.producer = EventProducer(settings)
        events = soak_traffic(stream, seed, rate, 60, customers)
        # the first event simulates the whole traffic (seconds): before the clock starts
        self.events = itertools.chain([next(events)], events)
        self.decided_topic = DECIDED_INPUT[stream]
        self.rate = rate
        self.sent: dict[str, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        for topic, key, event in paced(self.events, self.rate):
            if self.done.is_set():
                break
            if topic == self.decided_topic:
                self.sent[event.event_id] = time.time()
            self.producer.send(topic, key, event)
        self.producer.flush(120)


def longest_pause(decided: list[float], start: float, end: float) -> float:
    """The longest time from ``start`` to ``end`` in which no decision was logged (``decided`` sorted)."""
    inside = [t for t in decided if start <= t < end]
    last = min(end, decided[-1]) if decided else start
    return round(float(np.max(np.diff([start, *inside, max(last, start)]), initial=0.0)), 2)


def handover(
    settings: Settings, es: Elasticsearch, args: argparse.Namespace, standby: int, seed: int, logs: Path
) -> dict:
    spec = STREAMS[args.stream]
    env = {"STREAMSENSE_TABLE_STANDBY_REPLICAS": str(standby)}
    run = f"handover-{uuid.uuid4().hex[:8]}"
    group = Workers(settings, [args.stream], 2, logs / run, run, env, args.loglevel)
    try:
        ready_s = group.wait_ready()
        sender = Sender(settings, args.stream, args.rate, seed, args.customers)
        cpu_start = group.cpu_s()
        sender.start()
        time.sleep(args.build_s)
        cpu_build, sent_build = group.cpu_s() - cpu_start, len(sender.sent)
        changelog_records = sum(c["records"] for c in changelog_contents(settings, spec.app_id).values())
        stopped = time.time()
        group.procs[1][1].send_signal(signal.SIGTERM if args.stop == "term" else signal.SIGKILL)
        time.sleep(args.after_s)
        sender.done.set()
        sender.join()
        found = decided_at(es, spec.index, set(sender.sent), args.timeout_s, lambda: None)
    finally:
        group.stop()
        state = Path(worker_environment(settings)["STREAMSENSE_STATE_DIR"])
        for name in group.names:
            shutil.rmtree(worker_datadir(state, spec, name), ignore_errors=True)
    latency = {i: found[i] - t for i, t in sender.sent.items() if i in found}
    before = [v for i, v in latency.items() if stopped - BEFORE_S <= sender.sent[i] < stopped]
    after = sorted((sender.sent[i], v) for i, v in latency.items() if sender.sent[i] >= stopped)
    after_values = [v for _, v in after]
    decided = sorted(found.values())
    windows: dict[int, list[float]] = {}
    for sent, value in after:
        windows.setdefault(int((sent - stopped) // 10), []).append(value)
    return {
        "standby_replicas": standby,
        "ready_s": round(ready_s, 1),
        "events_sent": len(sender.sent),
        "missing": len(sender.sent) - len(found),
        "changelog_records_at_stop": changelog_records,
        "worker_cpu_ms_per_event_before_stop": round(cpu_build * 1000 / max(sent_build, 1), 2),
        "latency_ms_before_stop": percentiles_ms(before),
        "latency_ms_after_stop": {
            **percentiles_ms(after_values),
            "max": round(max(after_values) * 1000, 1) if after_values else None,
        },
        "latency_ms_p99_each_10s_after_stop": [percentiles_ms(windows[w])["p99"] for w in sorted(windows)],
        "longest_pause_s": longest_pause(decided, stopped, float("inf")),
        "longest_pause_s_before_stop": longest_pause(decided, stopped - BEFORE_S, stopped),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stream", default="payments", choices=sorted(STREAMS))
    parser.add_argument("--standby", default="0,1,1,0", help="standby replicas of each run, comma-separated")
    parser.add_argument("--stop", default="term", choices=("term", "kill"))
    parser.add_argument("--rate", type=float, default=100.0, help="events/s, before and after the stop")
    parser.add_argument("--build-s", type=float, default=120.0, help="traffic before the stop")
    parser.add_argument("--after-s", type=float, default=60.0, help="traffic after the stop")
    parser.add_argument("--customers", type=int, default=1_000, help="the payments population (see bench/pipeline.py)")
    parser.add_argument("--fresh", action="store_true", help="a Kafka and an Elasticsearch of its own for each run")
    parser.add_argument("--loglevel", default="warning", help="the workers' (logs in STATE_DIR/bench-logs/handover-*)")
    parser.add_argument("--timeout-s", type=float, default=600.0, help="wait this long for the last decisions")
    args = parser.parse_args()
    settings = get_settings()
    seeds = itertools.count(uuid.uuid4().int % 1_000_000, 1_000)
    runs = []
    for i, standby in enumerate(int(s) for s in args.standby.split(",")):
        own = (
            settings.model_copy(update={"state_dir": settings.state_dir / f"handover-{i}"}) if args.fresh else settings
        )
        infra = LocalInfra(own)
        infra.up()
        try:
            ensure_topics(own)
            install_templates(own)
            es = Elasticsearch(**elasticsearch_options(own), request_timeout=60)
            runs.append(handover(own, es, args, standby, next(seeds), settings.state_dir / "bench-logs"))
        finally:
            if args.fresh:
                infra.down()
                shutil.rmtree(own.state_dir, ignore_errors=True)
    print(json.dumps({"stream": args.stream, "stop": args.stop, "rate": args.rate, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
