"""End-to-end benchmark on the real broker and node: events per second and latency per stream, beside the raw limit.

For each stream (and a mix of all three) and each worker count, the script starts the workers, publishes a backlog
as fast as it can and measures how fast decisions are logged (the maximum rate), then publishes fresh traffic at
half that rate and measures latency from the moment an event was handed to the producer to its decision time
(``decided_at``); ``--rates`` adds latency at fixed rates, which compare across settings and machines where half of
a measured maximum does not. Beside it, in the same run, a confluent-kafka consume -> produce pass-through with no
work over the same payloads (repeated to ``--raw-messages``) gives the raw limit of broker and client on this
machine. Beside the rates: the CPU time per event of the workers, of Kafka, Elasticsearch and this script, and of
the machine as a whole, which other load disturbs less than the rates (counted up to the last decision seen);
``longest_pause_s`` between consecutive decisions, which shows a stall; ``ready_s``, from the workers' start to their
first decisions (loading models, joining the group, recovering the tables from what earlier runs left); memory, the
resident size of each worker after its half-rate run (before any ``--rates``). ``--soak-minutes`` runs one worker
for each of ``--soak-streams`` (payments by default), all at once, each stream at half its rate (or ``--soak-rate``,
to compare settings at one rate), that long, and samples each worker's memory every 30 s: the resident size, the part
of it the RocksDB tables hold (``streamsense_table_memory_bytes`` on the worker's ``/metrics``; bounded by the table
settings, it fills for a while), and the rest; with payments, at the end, the labels learned (the payments label
index) and the transactions awaiting theirs. The soak's sensors come from a fleet of a fixed size, as a plant's
do, so that the state a worker keeps for them reaches its size; so do its payments (``--soak-customers``, and
twice as many terminals): with 1,000 every card and terminal has been seen and labels arrive (a week after their
transactions, in simulated time) within the first minutes, a payments worker's steady state. The first run after
Kafka and Elasticsearch start pays for their warm-up (their CPU per transaction was several times that of later
runs).
``--profile DIR`` samples every worker with py-spy on the backlog, at half rate and at each of ``--rates``, keeps
the raw stacks in ``DIR`` and adds each worker's hottest functions (share of samples, self and inclusive) to the report.
It samples a thread only while it holds the GIL: otherwise a thread waiting to take the GIL back after a system call
counts as busy in that call (socket writes to the broker took a sixth of a payments worker's samples that way, many
times the share of its CPU that ``perf record`` found in them).

    python bench/pipeline.py                                # payments, sensors, chat, mix; 1 and 2 workers
    python bench/pipeline.py --streams payments --workers 1 --events 5000
    python bench/pipeline.py --streams payments --workers 1 --events 5000 --profile /tmp/profile
    python bench/pipeline.py --streams payments --workers 1 --events 3000 --rates 25,50,100
    python bench/pipeline.py --streams payments,sensors,chat --workers 1 --events 4000 --soak-minutes 10 \
        --soak-streams payments,sensors,chat

Prints one JSON object. Needs the trained artifacts (``make train``); starts Kafka and Elasticsearch if needed.
"""

import argparse
import heapq
import itertools
import json
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import psutil
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from elasticsearch import Elasticsearch
from machine_cpu import MachineCpu
from pydantic import BaseModel

from streamsense.cli.produce import chat_traffic, payments_traffic, sensor_traffic
from streamsense.infra.local.launcher import LocalInfra
from streamsense.settings import Settings, get_settings
from streamsense.streams.admin import ensure_topics
from streamsense.streams.codec import encode
from streamsense.streams.connections import elasticsearch_options, kafka_config
from streamsense.streams.decision_log import install_templates
from streamsense.streams.metric_names import TABLE_MEMORY_BYTES
from streamsense.streams.producer import EventProducer, paced
from streamsense.streams.readiness import answers_ready
from streamsense.streams.topics import (
    AWAITING_LABELS_INDEX,
    CHAT_MESSAGES,
    PAYMENTS_TRANSACTIONS,
    SENSOR_READINGS,
    STREAMS,
    label_index,
)
from streamsense.streams.worker import free_port, spawn_worker

Traffic = list[tuple[str, str, BaseModel]]
DECIDED_INPUT = {"payments": PAYMENTS_TRANSACTIONS, "sensors": SENSOR_READINGS, "chat": CHAT_MESSAGES}
SOAK_RATE = {"payments": 500.0, "sensors": 500.0, "chat": 150.0}
SOAK_UNITS = 100
"""The soak's sensor fleet: a fixed number of units, so that a worker's state reaches the size it keeps."""


def traffic(stream: str, count: int, seed: int) -> Traffic:
    """``count`` decided events of ``stream`` (payments also carry the labels that arrive among them)."""
    if stream == "payments":
        events: Iterator = payments_traffic(seed, customers=5_000, terminals=10_000, days=30)
    elif stream == "sensors":
        # a simulated unit gives about 900 readings a day: a few more units than that needs, cut to ``count`` below
        events = sensor_traffic(seed, units=max(4, count // 500), days=1.0, prefix=f"bench{seed}")
    else:
        events = chat_traffic(count, seed)
    out: Traffic = []
    decided = 0
    for topic, key, event in events:
        out.append((topic, key, event))
        decided += topic == DECIDED_INPUT[stream]
        if decided >= count:
            break
    return out


def mixed(count: int, seed: int) -> dict[str, Traffic]:
    return {s: traffic(s, count // 3, seed) for s in ("payments", "sensors", "chat")}


def interleave(parts: dict[str, Traffic]) -> Traffic:
    iters = [iter(p) for p in parts.values()]
    return [e for group in itertools.zip_longest(*iters) for e in group if e is not None]


def publish(producer: EventProducer, events: Traffic, rate: float | None) -> dict[str, float]:
    """Send ``events`` (at ``rate`` per second, or as fast as possible) and return when each was handed over.

    One producer serves the whole run, as a real client would: a new one's first messages wait for its connection
    and idempotent producer id, which added up to half a second to the latency of the first events.
    """
    sent: dict[str, float] = {}
    for topic, key, event in paced(events, rate):
        sent[event.event_id] = time.time()
        producer.send(topic, key, event)
    producer.flush(120)
    return sent


def decided_at(
    es: Elasticsearch, index: str, ids: set[str], timeout_s: float, progressed: Callable[[], None]
) -> dict[str, float]:
    """Wait until every id in ``ids`` has a decision in ``index``; return each one's decision time (epoch s).
    ``progressed`` is called whenever new decisions turn up."""
    deadline = time.monotonic() + timeout_s
    found: dict[str, float] = {}
    pending = list(ids)
    while pending and time.monotonic() < deadline:
        before = len(found)
        es.indices.refresh(index=index)
        for start in range(0, len(pending), 5_000):
            chunk = pending[start : start + 5_000]
            hits = es.search(index=index, size=len(chunk), query={"ids": {"values": chunk}}, source=["decided_at"])[
                "hits"
            ]["hits"]
            for hit in hits:
                found[hit["_id"]] = datetime.fromisoformat(hit["_source"]["decided_at"]).timestamp()
        if len(found) > before:
            progressed()
        pending = [i for i in pending if i not in found]
        if pending:
            time.sleep(1.0)
    return found


def percentiles_ms(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50": None, "p99": None, "p99_9": None}
    values = np.asarray(latencies) * 1000
    return {name: round(float(np.percentile(values, q)), 1) for name, q in (("p50", 50), ("p99", 99), ("p99_9", 99.9))}


class Workers:
    """``n`` worker processes per stream, in the same consumer group, started and stopped together; the ``i``-th of
    each stream is called ``{name}-{i}`` and has ``extra_env`` on top of the settings' environment."""

    def __init__(
        self,
        settings: Settings,
        streams: list[str],
        n: int,
        logs: Path,
        name: str = "bench",
        extra_env: dict[str, str] | None = None,
        loglevel: str = "warning",
    ) -> None:
        self.ports = [(s, free_port()) for s in streams for _ in range(n)]
        self.names = [f"{name}-{i % n}" for i in range(len(self.ports))]
        self.procs: list[tuple[str, subprocess.Popen]] = [
            (s, spawn_worker(s, settings, port, logs / f"{s}-{i % n}.log", loglevel, extra_env, name=worker))
            for i, ((s, port), worker) in enumerate(zip(self.ports, self.names, strict=True))
        ]
        self.machine = MachineCpu(settings)

    def table_memory_mib(self) -> dict[str, list[float]]:
        """Memory of each worker's RocksDB tables (memtables, block caches, table readers), from its ``/metrics``."""
        out: dict[str, list[float]] = {}
        for stream, port in self.ports:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
            total = sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(TABLE_MEMORY_BYTES))
            out.setdefault(stream, []).append(round(total / 2**20, 1))
        return out

    def rss_mib(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for stream, proc in self.procs:
            if proc.poll() is None:
                out.setdefault(stream, []).append(round(psutil.Process(proc.pid).memory_info().rss / 2**20, 1))
        return out

    def wait_ready(self, timeout_s: float = 300) -> float:
        """Seconds until every worker answers ``/ready`` at once: all have joined the group and recovered their
        tables, so that no rebalance falls in a measurement."""
        start = time.monotonic()
        while not all(answers_ready(port) for _, port in self.ports):
            if time.monotonic() - start > timeout_s or any(p.poll() is not None for _, p in self.procs):
                raise RuntimeError("the workers did not become ready")
            time.sleep(1)
        return time.monotonic() - start

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the running workers have used so far."""
        times = [psutil.Process(proc.pid).cpu_times() for _, proc in self.procs if proc.poll() is None]
        return sum(t.user + t.system for t in times)

    def profile(self, out: Path) -> list[tuple[Path, subprocess.Popen]]:
        """Start one py-spy sampler per worker (stopped with ``SIGINT``, which makes it write its stacks)."""
        out.mkdir(parents=True, exist_ok=True)
        samplers = []
        for i, (stream, proc) in enumerate(self.procs):
            path = out / f"{stream}-{i}.txt"
            command = [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(proc.pid),
                "--format",
                "raw",
                "--rate",
                "200",
            ]
            command += ["--output", str(path), "--nonblocking", "--gil"]
            samplers.append((path, subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        return samplers

    def stop(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()


def hottest(path: Path, top: int = 15) -> dict[str, list[tuple[str, float]]]:
    """The functions with most samples in a py-spy raw (collapsed) stack file: where the time goes, itself and
    below it (inclusive, leaving out the event loop and entry frames that sit in more than half the samples)."""
    own: dict[str, int] = {}
    below: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        n = int(count)
        total += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            below[frame] = below.get(frame, 0) + n

    def ranked(counts: dict[str, int]) -> list[tuple[str, float]]:
        return [(f, round(c / total, 3)) for f, c in sorted(counts.items(), key=lambda kv: -kv[1])[:top]]

    if not total:
        return {"samples": 0}
    return {
        "samples": total,
        "self": ranked(own),
        "inclusive": ranked({f: c for f, c in below.items() if c <= total / 2}),
    }


def decided_ids(parts: dict[str, Traffic]) -> dict[str, set[str]]:
    return {s: {e.event_id for topic, _, e in events if topic == DECIDED_INPUT[s]} for s, events in parts.items()}


def measure(
    producer: EventProducer,
    es: Elasticsearch,
    parts: dict[str, Traffic],
    rate: float | None,
    progressed: Callable[[], None] = lambda: None,
) -> dict:
    """Publish the parts (interleaved), wait for every decision, return rate and latency."""
    sent = publish(producer, interleave(parts), rate)
    times: dict[str, float] = {}
    for stream, ids in decided_ids(parts).items():
        times.update(decided_at(es, STREAMS[stream].index, ids, 240, progressed))
    expected = sum(len(ids) for ids in decided_ids(parts).values())
    latencies = [times[i] - sent[i] for i in times]
    span = max(times.values()) - min(sent.values()) if times else float("nan")
    decided = sorted(times.values())
    return {
        "decisions": len(times),
        "missing": expected - len(times),
        # a stall (events that wait while later ones are decided) shows as a long pause between decisions
        "longest_pause_s": round(max(np.diff(decided), default=0.0), 2),
        "events": sum(len(p) for p in parts.values()),
        "decisions_per_s": round(len(times) / span, 1),
        "events_per_s": round(sum(len(p) for p in parts.values()) / span, 1),
        "latency_ms": percentiles_ms(latencies),
    }


def warm_up(producer: EventProducer, es: Elasticsearch, streams: list[str], seed: int) -> None:
    """Until each stream's workers decide a first small batch (loads models, joins the group, recovers tables)."""
    measure(producer, es, {s: traffic(s, 20, seed) for s in streams}, None)


def profiled(
    group: Workers,
    profile: Path | None,
    producer: EventProducer,
    es: Elasticsearch,
    streams: list[str],
    split: int,
    seed: int,
    rate: float | None,
) -> tuple[dict, dict]:
    """One measurement with the CPU time per event of the workers and of the rest of the machine (up to the last
    decision that turned up, so that a wait for missing ones adds no idle time), sampled with py-spy when
    ``profile`` names a folder."""
    parts = {s: traffic(s, split, seed) for s in streams}  # simulated before the CPU is read: not the pipeline's
    samplers = group.profile(profile) if profile else []
    cpu_before = cpu_after = group.cpu_s()
    machine_before = machine_after = group.machine.cpu_s()

    def progressed() -> None:
        nonlocal cpu_after, machine_after
        cpu_after = group.cpu_s()
        machine_after = group.machine.cpu_s()

    result = measure(producer, es, parts, rate, progressed)
    result["worker_cpu_ms_per_event"] = round((cpu_after - cpu_before) * 1000 / result["events"], 2)
    result["cpu_ms_per_event"] = {
        "workers": result["worker_cpu_ms_per_event"],
        **{k: round((machine_after[k] - machine_before[k]) * 1000 / result["events"], 2) for k in machine_before},
    }
    for _, sampler in samplers:
        sampler.send_signal(signal.SIGINT)
        sampler.wait(60)
    return result, {path.stem: hottest(path) for path, _ in samplers if path.exists()}


def scenario(
    settings: Settings,
    producer: EventProducer,
    es: Elasticsearch,
    streams: list[str],
    workers: int,
    events: int,
    profile: Path | None,
    rates: list[float],
) -> dict:
    seed = uuid.uuid4().int % 1_000_000
    group = Workers(settings, streams, workers, settings.state_dir / "bench-logs")
    try:
        started = time.monotonic()
        warm_up(producer, es, streams, seed)
        # the first decisions can come before a second worker has joined: its rebalance would fall in the run
        group.wait_ready()
        ready_s = time.monotonic() - started
        split = events // len(streams)
        name = f"{'+'.join(streams)}-{workers}"
        maximum, max_profile = profiled(group, profile and profile / name, producer, es, streams, split, seed + 1, None)
        half_rate = maximum["events_per_s"] / 2
        half, half_profile = profiled(
            group, profile and profile / f"{name}-half", producer, es, streams, split, seed + 2, half_rate
        )
        result = {
            "ready_s": round(ready_s, 1),
            "max_rate": maximum,
            "half_rate": {"rate": half_rate, **half},
            "rss_mib": group.rss_mib(),
        }
        profiles = {"max_rate": max_profile, "half_rate": half_profile}
        for n, rate in enumerate(rates):
            where = profile and profile / f"{name}-{rate:g}"
            paced_result, profiles[f"{rate:g}"] = profiled(
                group, where, producer, es, streams, split, seed + 3 + n, rate
            )
            result.setdefault("paced", {})[f"{rate:g}"] = paced_result
        if profile:
            result["profile"] = profiles
        return result
    finally:
        group.stop()


def raw_passthrough(settings: Settings, payloads: list[tuple[bytes, bytes]]) -> dict:
    """confluent-kafka consume -> produce with no work: what broker and client allow on this machine."""
    run = uuid.uuid4().hex[:8]
    source, sink = f"bench.raw.{run}.in", f"bench.raw.{run}.out"
    ensure_topics(settings, [source, sink])
    producer = Producer({**kafka_config(settings), "linger.ms": 5, "compression.type": "lz4", "acks": "all"})
    for key, value in payloads:
        while True:
            try:
                producer.produce(source, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(120)
    consumer = Consumer({**kafka_config(settings), "group.id": f"bench-raw-{run}", "auto.offset.reset": "earliest"})
    consumer.subscribe([source])
    relayed, started, cpu_started = 0, None, None
    machine = MachineCpu(settings)
    deadline = time.monotonic() + 300
    while relayed < len(payloads) and time.monotonic() < deadline:
        for message in consumer.consume(num_messages=1_000, timeout=1.0):
            if message.error():
                continue
            if started is None:
                started, cpu_started = time.perf_counter(), machine.cpu_s()
            while True:
                try:
                    producer.produce(sink, key=message.key(), value=message.value())
                    break
                except BufferError:
                    producer.poll(0.1)
            relayed += 1
        producer.poll(0)
    producer.flush(120)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    cpu = {k: v - cpu_started[k] for k, v in machine.cpu_s().items()} if cpu_started else {}
    consumer.close()
    AdminClient(kafka_config(settings)).delete_topics([source, sink])
    return {
        "messages": relayed,
        "messages_per_s": round(relayed / elapsed, 1) if elapsed else None,
        # what one relayed message costs the machine: compare with the scenarios' cpu_ms_per_event
        "cpu_us_per_message": {k: round(v * 1e6 / relayed, 1) for k, v in cpu.items()} if relayed else {},
    }


def soak_traffic(
    stream: str, seed: int, rate: float, minutes: float, customers: int
) -> Iterator[tuple[str, str, BaseModel]]:
    """Enough of ``stream`` for ``minutes`` at ``rate``, from a population that stays the same size: ``customers``
    and twice as many terminals for payments, a fleet of units for sensors; chat's conversations end, as a day's
    do."""
    needed = int(rate * minutes * 60) + 1_000
    if stream == "payments":
        return payments_traffic(seed, customers=customers, terminals=2 * customers, days=180)
    if stream == "sensors":
        # a unit sends 900 readings or more a simulated day
        return sensor_traffic(seed, units=SOAK_UNITS, days=needed / (SOAK_UNITS * 900), prefix=f"soak{seed}")
    return chat_traffic(needed, seed)


def merged(schedules: dict[str, tuple[Iterator, float]]) -> Iterator[tuple[float, str, str, str, BaseModel]]:
    """Each stream's events at its own rate, merged by when each is due (seconds from the start), with the stream."""

    def due(stream: str, events: Iterator, rate: float) -> Iterator[tuple[float, str, str, str, BaseModel]]:
        for n, (topic, key, event) in enumerate(events):
            yield n / rate, stream, topic, key, event

    return heapq.merge(
        *(due(stream, events, rate) for stream, (events, rate) in schedules.items()), key=lambda item: item[0]
    )


def soak(
    settings: Settings,
    producer: EventProducer,
    es: Elasticsearch,
    minutes: float,
    rates: dict[str, float],
    customers: int,
) -> dict:
    """One worker per stream of ``rates``, each stream at its rate for ``minutes``; every worker's memory sampled every
    30 s: the resident size, and the part of it that the RocksDB tables hold (memtables and caches, bounded by the
    table settings)."""
    streams = list(rates)
    group = Workers(settings, streams, 1, settings.state_dir / "bench-logs")
    samples: dict[str, list[float]] = {s: [] for s in streams}
    tables: dict[str, list[float]] = {s: [] for s in streams}
    sent = dict.fromkeys(streams, 0)
    try:
        seed = uuid.uuid4().int % 1_000_000
        warm_up(producer, es, streams, seed)
        events = merged({s: (soak_traffic(s, seed + 1, rate, minutes, customers), rate) for s, rate in rates.items()})
        first = next(events)  # simulates every stream's traffic (many seconds) before the clock starts
        start = time.monotonic()
        next_sample = start
        for at, stream, topic, key, event in itertools.chain([first], events):
            if at >= minutes * 60:
                break
            if (ahead := start + at - time.monotonic()) > 0:
                time.sleep(ahead)
            producer.send(topic, key, event)
            sent[stream] += 1
            if time.monotonic() >= next_sample:
                for s, rss in group.rss_mib().items():
                    samples[s].append(rss[0])
                for s, table in group.table_memory_mib().items():
                    tables[s].append(table[0])
                next_sample += 30
        producer.flush(120)
    finally:
        group.stop()
    workers = {}
    for s in streams:
        rest = [round(rss - table, 1) for rss, table in zip(samples[s], tables[s], strict=True)]
        workers[s] = {
            "rate": rates[s],
            "events_sent": sent[s],
            "rss_mib_every_30s": samples[s],
            "tables_mib_every_30s": tables[s],
            "rss_minus_tables_mib_every_30s": rest,
            # from the second sample on: the first is taken as the traffic starts, before the worker's first fill
            "second_half_minus_first_half_mib": {
                "rss": halves_apart(samples[s][1:]),
                "tables": halves_apart(tables[s][1:]),
                "rss_minus_tables": halves_apart(rest[1:]),
            },
        }
    report: dict = {"minutes": minutes, "workers": workers}
    if "payments" in rates:
        es.indices.refresh(index=[label_index("payments"), AWAITING_LABELS_INDEX], ignore_unavailable=True)
        # everything the run's broker and node hold, warm-up and earlier scenarios included
        report["labels_learned"] = es.count(index=label_index("payments"), ignore_unavailable=True)["count"]
        report["awaiting_labels"] = es.count(index=AWAITING_LABELS_INDEX, ignore_unavailable=True)["count"]
    return report


def halves_apart(samples: list[float]) -> float | None:
    """Mean of the second half of ``samples`` minus the mean of the first half: growth over the run."""
    half = len(samples) // 2
    return round(statistics.mean(samples[half:]) - statistics.mean(samples[:half]), 1) if half else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="payments,sensors,chat,mix", help="'' for none")
    parser.add_argument("--workers", default="1,2", help="worker processes per stream, comma-separated")
    parser.add_argument("--events", type=int, default=20_000, help="decided events per measurement")
    parser.add_argument("--soak-minutes", type=float, default=0.0)
    parser.add_argument("--soak-streams", default="payments", help="comma-separated: one worker each in the soak")
    parser.add_argument(
        "--soak-rate",
        action="append",
        default=[],
        help="STREAM=RATE events/s in the soak, repeatable; a bare number is payments' (default: half the stream's "
        "one-worker backlog rate when measured in the run, else "
        + ", ".join(f"{s} {r:g}" for s, r in SOAK_RATE.items())
        + ")",
    )
    parser.add_argument(
        "--soak-customers",
        type=int,
        default=20_000,
        help="the soak's payments come from this many customers (and twice as many terminals); about 2 transactions "
        "a customer per simulated day, whose labels arrive a week later: with 1,000, labels arrive from about the "
        "14,000th event on",
    )
    parser.add_argument(
        "--raw-messages", type=int, default=500_000, help="messages relayed by the raw pass-through (payments payloads)"
    )
    parser.add_argument("--profile", type=Path, help="sample the workers with py-spy; raw stacks go here")
    parser.add_argument(
        "--rates", default="", help="comma-separated fixed rates (events/s) whose latency is measured after half rate"
    )
    args = parser.parse_args()
    settings = get_settings()
    LocalInfra(settings).up()
    ensure_topics(settings)
    install_templates(settings)
    es = Elasticsearch(**elasticsearch_options(settings), request_timeout=60)
    producer = EventProducer(settings)
    events = [(k.encode(), encode(e)) for _, k, e in traffic("payments", args.events, 7)]
    # the same payloads over and over, enough for a few seconds: 6,000 messages took 13 to 140 ms, and a measure
    # that short gave anything from 43,000 to 456,000 messages/s on one broker
    payloads = list(itertools.islice(itertools.cycle(events), max(args.raw_messages, len(events))))
    report: dict = {
        "events_per_measurement": args.events,
        "cpus": psutil.cpu_count(),
        "raw_passthrough": raw_passthrough(settings, payloads),
        "scenarios": {},
    }
    raw_rate = report["raw_passthrough"]["messages_per_s"]
    rates = [float(r) for r in args.rates.split(",") if r]
    chosen = [s for s in args.streams.split(",") if s]  # none: only the raw limit, and the soak
    for stream in chosen:
        streams = ["payments", "sensors", "chat"] if stream == "mix" else [stream]
        for n in (int(w) for w in args.workers.split(",")):
            result = scenario(settings, producer, es, streams, n, args.events, args.profile, rates)
            result["fraction_of_raw"] = round(result["max_rate"]["events_per_s"] / raw_rate, 3) if raw_rate else None
            result["events_per_s_per_worker_process"] = round(
                result["max_rate"]["events_per_s"] / (n * len(streams)), 1
            )
            report["scenarios"][f"{stream}/{n}"] = result
            print(json.dumps({f"{stream}/{n}": result}), file=sys.stderr, flush=True)
    for stream in chosen:
        one, two = report["scenarios"].get(f"{stream}/1"), report["scenarios"].get(f"{stream}/2")
        if one and two:
            two["speedup_over_one"] = round(two["max_rate"]["events_per_s"] / one["max_rate"]["events_per_s"], 2)
    if args.soak_minutes:
        given = dict(r.split("=", 1) if "=" in r else ("payments", r) for r in args.soak_rate)
        soak_rates = {
            s: float(
                given.get(s) or report["scenarios"].get(f"{s}/1", {}).get("half_rate", {}).get("rate", SOAK_RATE[s])
            )
            for s in args.soak_streams.split(",")
        }
        report["soak"] = soak(settings, producer, es, args.soak_minutes, soak_rates, args.soak_customers)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
