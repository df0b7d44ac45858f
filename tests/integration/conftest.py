"""One real Kafka broker and one real Elasticsearch node for the whole test session, on their own ports.

Workers run as separate processes (``python -m streamsense worker run``) so tests can SIGKILL them.
"""

import os
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from aiokafka.partitioner import DefaultPartitioner
from confluent_kafka import Consumer, TopicPartition
from elasticsearch import Elasticsearch

from streamsense.infra.local.launcher import LocalInfra
from streamsense.schemas.base import ModelRef
from streamsense.schemas.payments import PaymentDecision, Transaction
from streamsense.settings import Settings
from streamsense.streams.admin import ensure_topics
from streamsense.streams.connections import elasticsearch_options, kafka_config
from streamsense.streams.decision_log import install_templates
from streamsense.streams.producer import EventProducer
from streamsense.streams.readiness import answers_ready
from streamsense.streams.topics import PAYMENTS_TRANSACTIONS, STREAMS
from streamsense.streams.worker import free_port, spawn_worker

pytestmark = pytest.mark.integration

_OFFSET = int(os.environ.get("STREAMSENSE_TEST_PORT_OFFSET", "0"))  # to run two suites side by side
PORTS = {
    "kafka_port": 19092 + _OFFSET,
    "kafka_controller_port": 19093 + _OFFSET,
    "es_port": 19200 + _OFFSET,
    "es_transport_port": 19300 + _OFFSET,
}


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    state = Path(os.environ.get("STREAMSENSE_TEST_STATE_DIR", f"/tmp/streamsense-it-{os.getpid()}"))
    return Settings(state_dir=state, es_retry_max_s=2.0, **PORTS)


@pytest.fixture(scope="session")
def infra(settings: Settings) -> Iterator[LocalInfra]:
    launcher = LocalInfra(settings)
    launcher.up()
    try:
        ensure_topics(settings)
        install_templates(settings)
        yield launcher
    finally:
        launcher.down()


@pytest.fixture(scope="session")
def es(infra: LocalInfra, settings: Settings) -> Iterator[Elasticsearch]:
    with Elasticsearch(**elasticsearch_options(settings), request_timeout=30) as client:
        yield client


@pytest.fixture
def producer(infra: LocalInfra, settings: Settings) -> EventProducer:
    return EventProducer(settings)


class WorkerProcess:
    """A worker in its own process, like production, so that it can be killed for real."""

    def __init__(self, stream: str, settings: Settings, log_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.stream = stream
        self.settings = settings
        self.extra_env = extra_env
        self.log_path = log_dir / f"worker-{stream}-{uuid.uuid4().hex[:6]}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        self.web_port = free_port()
        loglevel = os.environ.get("STREAMSENSE_TEST_WORKER_LOGLEVEL", "info")
        self.proc = spawn_worker(self.stream, self.settings, self.web_port, self.log_path, loglevel, self.extra_env)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ready(self) -> bool:
        """Whether the worker answers ``/ready``: joined its group and recovered its tables."""
        return self.alive() and answers_ready(self.web_port)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def metrics(self) -> str:
        """The worker's Prometheus metrics, as text."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/metrics", timeout=5) as response:
            return response.read().decode()

    def metric(self, series: str) -> float:
        """The value of one series (name and labels as Prometheus prints them); 0 while the worker has none."""
        return sum(float(line.split()[-1]) for line in self.metrics().splitlines() if line.startswith(series + " "))


@pytest.fixture
def start_worker(infra: LocalInfra, settings: Settings) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []
    log_dir = settings.state_dir / "worker-logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    def start(stream: str, overrides: Settings | None = None, extra_env: dict[str, str] | None = None) -> WorkerProcess:
        worker = WorkerProcess(stream, overrides or settings, log_dir, extra_env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _wait_for(condition: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.5) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


class TopicReader:
    """Reads a topic from the beginning and keeps what it has seen."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.consumer = Consumer(
            {
                **kafka_config(settings),
                "group.id": f"test-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        self.consumer.subscribe([topic])
        self.messages: list = []

    def poll(self, seconds: float = 1.0) -> list:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = self.consumer.poll(0.2)
            if message is not None and message.error() is None:
                self.messages.append(message)
        return self.messages

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def read_topic(infra: LocalInfra, settings: Settings) -> Iterator[Callable[[str], TopicReader]]:
    readers: list[TopicReader] = []

    def open_reader(topic: str) -> TopicReader:
        reader = TopicReader(settings, topic)
        readers.append(reader)
        return reader

    yield open_reader
    for reader in readers:
        reader.close()


@pytest.fixture
def key_per_partition(settings: Settings) -> Callable[[str], list[str]]:
    """``prefix`` followed by a number, one such key for each partition of a topic, found with the Java client's
    murmur2 hash, by which ``EventProducer`` places a key. A test that needs an event on every partition cannot
    count on many random keys to cover them: 100 once missed one partition of 12, and a CI run failed."""
    partitions = list(range(settings.topic_partitions))

    def keys(prefix: str) -> list[str]:
        found: dict[int, str] = {}
        n = 0
        while len(found) < len(partitions):
            key = f"{prefix}{n}"
            found.setdefault(DefaultPartitioner()(key.encode(), partitions, partitions), key)
            n += 1
        return [found[p] for p in partitions]

    return keys


def _caught_up(settings: Settings, group: str, topic: str) -> bool:
    """True when the group's committed offsets reach the end of every partition of ``topic``."""
    consumer = Consumer({**kafka_config(settings), "group.id": group})
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        committed = {tp.partition: tp.offset for tp in consumer.committed(partitions, timeout=10)}
        for tp in partitions:
            _, high = consumer.get_watermark_offsets(tp, timeout=10)
            if high > 0 and committed[tp.partition] < high:
                return False
        return True
    finally:
        consumer.close()


def _count_by_id(es: Elasticsearch, index: str, ids: list[str]) -> dict[str, int]:
    """How many documents carry each event id (a duplicate would show as 2)."""
    es.indices.refresh(index=index)
    counts: dict[str, int] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        result = es.search(
            index=index,
            size=0,
            query={"terms": {"event_id": chunk}},
            aggs={"ids": {"terms": {"field": "event_id", "size": len(chunk)}}},
        )
        for bucket in result["aggregations"]["ids"]["buckets"]:
            counts[bucket["key"]] = bucket["doc_count"]
    return counts


@pytest.fixture
def wait_for() -> Callable[..., None]:
    return _wait_for


@pytest.fixture
def count_by_id(es: Elasticsearch) -> Callable[[str, list[str]], dict[str, int]]:
    return lambda index, ids: _count_by_id(es, index, ids)


@pytest.fixture
def decide_payment(producer: EventProducer, es: Elasticsearch) -> Callable[[Transaction, float, str], None]:
    """Send one transaction and wait until its decision is logged (a payments worker is up and deciding)."""

    def send_and_wait(tx: Transaction, timeout_s: float, what: str) -> None:
        producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
        producer.flush()
        _wait_for(lambda: tx.event_id in _count_by_id(es, STREAMS["payments"].index, [tx.event_id]), timeout_s, what)

    return send_and_wait


@pytest.fixture
def caught_up(settings: Settings) -> Callable[[str, str], bool]:
    return lambda group, topic: _caught_up(settings, group, topic)


@pytest.fixture
def payment_decision() -> Callable[[str, datetime], PaymentDecision]:
    """A legit payments decision of a test model for ``event_id``, made (and dated) at ``decided_at``."""

    def make(event_id: str, decided_at: datetime) -> PaymentDecision:
        return PaymentDecision(
            event_id=event_id,
            event_time=decided_at,
            decided_at=decided_at,
            key="acct",
            model=ModelRef(name="m", version="v"),
            score=0.5,
            label="legit",
            threshold=0.5,
            latency_ms=1.0,
        )

    return make
