"""Prometheus metrics of one worker, served at ``/metrics`` on the worker's web port."""

import collections

import faust
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from streamsense.streams.metric_names import (
    CONSUMER_LAG,
    DLQ_EVENTS_TOTAL,
    DRIFT_PSI,
    ES_BULK_ERRORS_TOTAL,
    ES_QUEUE_DEPTH,
    EVENTS_FAILED_TOTAL,
    EVENTS_PROCESSED_TOTAL,
    INFERENCE_LATENCY_SECONDS,
    METRICS,
    PRODUCER_BUFFER_MESSAGES,
    REDELIVERED_TOTAL,
    TABLE_EXPIRED_TOTAL,
    TABLE_MEMORY_BYTES,
)
from streamsense.streams.table_memory import table_memory

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_INTERVAL_S = 5.0


def _replace_series(
    gauge: Gauge, held: set[tuple[str, ...]], values: dict[tuple[str, ...], float]
) -> set[tuple[str, ...]]:
    """Set ``gauge`` to ``values`` (label values to value) and remove the series of ``held`` it no longer names;
    returns the series it holds now."""
    for labels in held - values.keys():
        gauge.remove(*labels)
    for labels, value in values.items():
        gauge.labels(*labels).set(value)
    return set(values)


class WorkerMetrics:
    """The worker's metrics in a registry of its own (tests and several apps in one process do not collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()

        def labels(name: str) -> tuple[str, ...]:
            return METRICS[name].labels

        self.latency = Histogram(
            INFERENCE_LATENCY_SECONDS,
            "Time to decide (stage=decide) and to deliver and log a batch (stage=deliver)",
            labels(INFERENCE_LATENCY_SECONDS),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.processed = Counter(
            EVENTS_PROCESSED_TOTAL, "Input events handled", labels(EVENTS_PROCESSED_TOTAL), registry=self.registry
        )
        self.failed = Counter(
            EVENTS_FAILED_TOTAL,
            "Valid events whose decision failed",
            labels(EVENTS_FAILED_TOTAL),
            registry=self.registry,
        )
        self.dead_letters = Counter(
            DLQ_EVENTS_TOTAL, "Events sent to a dead-letter topic", labels(DLQ_EVENTS_TOTAL), registry=self.registry
        )
        self.lag = Gauge(
            CONSUMER_LAG, "Messages not yet committed, per partition", labels(CONSUMER_LAG), registry=self.registry
        )
        self._lag_series: set[tuple[str, ...]] = set()
        self._psi_series: set[tuple[str, ...]] = set()
        self.es_errors = Counter(
            ES_BULK_ERRORS_TOTAL, "Failed or rejected Elasticsearch bulk attempts", registry=self.registry
        )
        self.es_queue = Gauge(ES_QUEUE_DEPTH, "Documents waiting to be indexed", registry=self.registry)
        self.redelivered = Counter(
            REDELIVERED_TOTAL,
            "Offsets handed out again after they were lost on the way to their stream (streams/consumer.py)",
            labels(REDELIVERED_TOTAL),
            registry=self.registry,
        )
        self.table_memory = Gauge(
            TABLE_MEMORY_BYTES,
            "Memory of the worker's RocksDB tables, as RocksDB counts it (memtables, block_cache, table_readers)",
            labels(TABLE_MEMORY_BYTES),
            registry=self.registry,
        )
        self.expired = Counter(
            TABLE_EXPIRED_TOTAL,
            "Table entries deleted once no event or label can need them there any more",
            labels(TABLE_EXPIRED_TOTAL),
            registry=self.registry,
        )
        self.producer_buffer = Gauge(
            PRODUCER_BUFFER_MESSAGES,
            "Records (decisions, forwards, changelog records) handed to the producer and not yet sent",
            registry=self.registry,
        )
        self.drift_psi = Gauge(
            DRIFT_PSI,
            "PSI of each feature in the last drift run, per model, where its level counts (else 0)",
            labels(DRIFT_PSI),
            registry=self.registry,
        )

    def set_lag(self, lags: dict[tuple[str, int], int]) -> None:
        """The lag of the partitions the worker holds now; a partition it gave up in a rebalance loses its series,
        which would otherwise keep its last value beside the new owner's and count twice in a sum by topic."""
        series = {(topic, str(partition)): lag for (topic, partition), lag in lags.items()}
        self._lag_series = _replace_series(self.lag, self._lag_series, series)

    def set_drift_psi(self, values: dict[tuple[str, str], float]) -> None:
        """The PSI of each (model, feature) of the last drift run; a pair the run did not read (a model with too few
        decisions, a feature gone) loses its series, which would otherwise keep an alert firing on an old value."""
        self._psi_series = _replace_series(self.drift_psi, self._psi_series, values)

    def expose(self) -> bytes:
        return generate_latest(self.registry)

    def install(self, app: faust.App, topics: tuple[str, ...]) -> None:
        """Serve ``/metrics``; refresh the consumer lag of the input ``topics``, the count of redelivered offsets and
        the tables' memory every few seconds."""

        @app.page("/metrics")
        async def metrics_page(web: faust.web.Web, request: faust.web.Request) -> faust.web.Response:
            # aiohttp refuses a charset inside content_type; Prometheus' text format is UTF-8 by definition
            return web.bytes(self.expose(), content_type=CONTENT_TYPE_LATEST.split("; charset")[0])

        self.producer_buffer.set_function(lambda: app.producer.buffer.size)
        counted: collections.Counter[str] = collections.Counter()

        @app.timer(LAG_INTERVAL_S)
        async def refresh_lag() -> None:
            consumer = app.consumer
            for topic, total in consumer.redelivered.items():
                self.redelivered.labels(topic).inc(total - counted[topic])
                counted[topic] = total
            for kind, size in table_memory(app.tables.values()).items():
                self.table_memory.labels(kind).set(size)
            lags = {}
            for tp in consumer.assignment():
                if tp.topic not in topics:
                    continue
                highwater = consumer.highwater(tp)
                committed = consumer._committed_offset.get(tp)  # Faust keeps the last committed offset here
                if highwater is not None:
                    lags[tp.topic, tp.partition] = max(highwater - (committed or 0), 0)
            self.set_lag(lags)
