"""``streamsense demo``: the whole pipeline on this machine, from traffic to decisions in Elasticsearch."""

import importlib
import importlib.util
import itertools
import signal
import subprocess
import time
from datetime import UTC, datetime

import orjson
import typer
from elasticsearch import Elasticsearch
from pydantic import BaseModel

from streamsense.cli.checks import bounded
from streamsense.cli.produce import chat_traffic, payments_traffic, sensor_traffic
from streamsense.infra.local.launcher import InfraError, LocalInfra
from streamsense.settings import Settings, get_settings
from streamsense.streams.admin import ensure_topics
from streamsense.streams.connections import elasticsearch_options, safe_url
from streamsense.streams.decision_log import install_templates
from streamsense.streams.producer import EventProducer
from streamsense.streams.readiness import answers_ready
from streamsense.streams.topics import DLQ_INDEX, PAYMENTS_TRANSACTIONS, STREAMS
from streamsense.streams.worker import free_port, spawn_worker

demo_app = typer.Typer(help="Run a local demo of the whole pipeline.")


def _traffic(stream: str, count: int, seed: int) -> list[tuple[str, str, BaseModel]]:
    """Events for ``stream`` from its simulator or shipped data."""
    if stream == "payments":
        events = payments_traffic(seed, customers=1_000, terminals=2_000, days=20)
    elif stream == "sensors":
        events = sensor_traffic(seed, units=8, days=1.0, prefix=f"unit{seed}")
    else:
        events = chat_traffic(count, seed)
    return list(itertools.islice(events, count))


def _missing(stream: str) -> str | None:
    """Why a stream cannot run here yet (no agent, or a trained artifact missing), or None."""
    if importlib.util.find_spec(f"streamsense.agents.{stream}") is None:
        return "no agent for this stream yet"
    return importlib.import_module(f"streamsense.agents.{stream}").missing_artifacts()


def _wait_ready(workers: dict[str, subprocess.Popen], ports: dict[str, int], timeout_s: float) -> list[str]:
    """Wait until every running worker is ready, so that traffic is not published to workers still replaying large
    tables (minutes on a state dir that benchmarks filled); returns the streams not ready in time."""
    deadline = time.monotonic() + timeout_s
    next_note = time.monotonic() + 30
    while True:
        waiting = [s for s in workers if workers[s].poll() is None and not answers_ready(ports[s])]
        if not waiting or time.monotonic() > deadline:
            return waiting
        if time.monotonic() > next_note:
            typer.echo(f"waiting for {', '.join(waiting)} to join and recover its tables ...")
            next_note += 30
        time.sleep(1)


def _summary(es: Elasticsearch, stream: str, since: str) -> dict:
    index = STREAMS[stream].index
    es.indices.refresh(index=index)
    result = es.search(
        index=index,
        size=1,
        query={"range": {"decided_at": {"gte": since}}},
        sort=[{"score": "desc"}],
        aggs={
            "labels": {"terms": {"field": "label"}},
            "latency": {"percentiles": {"field": "latency_ms", "percents": [50, 99]}},
            "models": {"terms": {"field": "model.version"}},
        },
    )
    aggs = result["aggregations"]
    top = result["hits"]["hits"][0]["_source"] if result["hits"]["hits"] else None
    return {
        "decisions": result["hits"]["total"]["value"],
        "by_label": {b["key"]: b["doc_count"] for b in aggs["labels"]["buckets"]},
        "latency_ms_p50_p99": [round(v, 2) if v is not None else None for v in aggs["latency"]["values"].values()],
        "model_versions": [b["key"] for b in aggs["models"]["buckets"]],
        "highest_score": top and {k: top[k] for k in ("event_id", "key", "score", "label", "reasons") if k in top},
    }


@demo_app.callback(invoke_without_command=True)
def demo(
    events: int = typer.Option(2000, min=1, help="events to publish per stream"),
    seed: int | None = typer.Option(
        None, min=0, help="traffic seed (default: new each run, so reruns add fresh traffic)"
    ),
    stop_infra: bool = typer.Option(False, help="stop Kafka and Elasticsearch at the end"),
    ready_timeout_s: float = typer.Option(
        1800, help="how long to wait for the workers to recover their tables", callback=bounded(0)
    ),
    idle_timeout_s: float = typer.Option(
        120, help="give up waiting for decisions after this long without one", callback=bounded(0)
    ),
) -> None:
    """Start Kafka + Elasticsearch, run one worker per stream, publish traffic (and a few bad events), print
    what was decided."""
    settings: Settings = get_settings()
    seed = seed if seed is not None else int(time.time()) % 1_000_000
    infra = LocalInfra(settings)
    typer.echo("starting kafka and elasticsearch (first run resolves the jars from Maven Central) ...")
    try:
        infra.up()
    except InfraError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from error
    ensure_topics(settings)
    install_templates(settings)
    streams = []
    for stream in STREAMS:
        reason = _missing(stream)
        if reason:
            typer.secho(f"skipping {stream}: {reason}", fg=typer.colors.YELLOW)
        else:
            streams.append(stream)
    logs = settings.state_dir / "demo-logs"
    ports = {s: free_port() for s in streams}
    workers = {s: spawn_worker(s, settings, ports[s], logs / f"{s}.log", name="demo") for s in streams}
    typer.echo(f"workers: {', '.join(streams)} (logs in {logs})")
    started = time.monotonic()
    late = _wait_ready(workers, ports, ready_timeout_s)
    if late:
        typer.secho(f"not ready after {ready_timeout_s:.0f} s: {', '.join(late)}", fg=typer.colors.YELLOW)
    else:
        typer.echo(f"workers ready after {time.monotonic() - started:.0f} s")
    es = Elasticsearch(**elasticsearch_options(settings), request_timeout=30)
    try:
        producer = EventProducer(settings)
        expected: dict[str, int] = {}
        before = {s: es.count(index=STREAMS[s].index)["count"] for s in streams}
        since = datetime.now(UTC).isoformat()
        for stream in streams:
            traffic = _traffic(stream, events, seed)
            for topic, key, event in traffic:
                producer.send(topic, key, event)
            expected[stream] = sum(1 for topic, _, _ in traffic if topic == STREAMS[stream].inputs[0])
        for n, bad in enumerate([b"{not json", b'{"event_id": "x"}', b"\xff\xfe"]):
            producer.send_raw(PAYMENTS_TRANSACTIONS, f"demo-bad-{seed}-{n}".encode(), bad)
        producer.flush()
        typer.echo(f"published {sum(expected.values())} events (+ labels) and 3 invalid ones; waiting for decisions")
        decided = dict.fromkeys(streams, 0)
        deadline = time.monotonic() + idle_timeout_s
        while time.monotonic() < deadline:
            counts = {s: es.count(index=STREAMS[s].index)["count"] - before[s] for s in streams}
            if counts != decided:
                decided, deadline = counts, time.monotonic() + idle_timeout_s
            if all(decided[s] >= expected[s] or workers[s].poll() is not None for s in streams):
                break
            time.sleep(2)
        report = {s: _summary(es, s, since) for s in streams}
        es.indices.refresh(index=DLQ_INDEX)
        report["dead_letters"] = es.count(index=DLQ_INDEX, query={"range": {"failed_at": {"gte": since}}})["count"]
        for stream, worker in workers.items():
            if worker.poll() is not None:
                report[stream]["worker"] = f"exited with {worker.returncode}; see {logs / (stream + '.log')}"
        typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers.values():
            worker.wait(60)
        es.close()
        if stop_infra:
            infra.down()
        else:
            typer.echo(
                f"kafka {settings.bootstrap_servers} and elasticsearch {safe_url(settings.elasticsearch_url)} keep"
                " running; `streamsense infra down` stops them"
            )
