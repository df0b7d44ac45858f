"""Every Prometheus metric the workers emit, in one place: the worker, the alert rules and their tests use these."""

from dataclasses import dataclass
from typing import Literal

INFERENCE_LATENCY_SECONDS = "inference_latency_seconds"
EVENTS_PROCESSED_TOTAL = "streamsense_events_processed_total"
EVENTS_FAILED_TOTAL = "streamsense_events_failed_total"
DLQ_EVENTS_TOTAL = "streamsense_dlq_events_total"
CONSUMER_LAG = "streamsense_consumer_lag"
ES_BULK_ERRORS_TOTAL = "streamsense_es_bulk_errors_total"
ES_QUEUE_DEPTH = "streamsense_es_queue_depth"
DRIFT_PSI = "streamsense_drift_psi"
REDELIVERED_TOTAL = "streamsense_redelivered_total"
TABLE_MEMORY_BYTES = "streamsense_table_memory_bytes"
TABLE_EXPIRED_TOTAL = "streamsense_table_expired_total"
PRODUCER_BUFFER_MESSAGES = "streamsense_producer_buffer_messages"

MetricKind = Literal["counter", "gauge", "histogram"]


@dataclass(frozen=True)
class MetricSpec:
    """Name, type and label names of one metric, as the worker registers it."""

    name: str
    kind: MetricKind
    labels: tuple[str, ...]

    def series(self) -> tuple[str, ...]:
        """Names of the series Prometheus stores for it (a histogram exposes _bucket, _sum and _count)."""
        if self.kind == "histogram":
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count")
        return (self.name,)


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec(INFERENCE_LATENCY_SECONDS, "histogram", ("model", "stage")),
        MetricSpec(EVENTS_PROCESSED_TOTAL, "counter", ("stream",)),
        MetricSpec(EVENTS_FAILED_TOTAL, "counter", ("stream",)),
        MetricSpec(DLQ_EVENTS_TOTAL, "counter", ("topic",)),
        MetricSpec(CONSUMER_LAG, "gauge", ("topic", "partition")),
        MetricSpec(ES_BULK_ERRORS_TOTAL, "counter", ()),
        MetricSpec(ES_QUEUE_DEPTH, "gauge", ()),
        MetricSpec(DRIFT_PSI, "gauge", ("model", "feature")),
        MetricSpec(REDELIVERED_TOTAL, "counter", ("topic",)),
        MetricSpec(TABLE_MEMORY_BYTES, "gauge", ("kind",)),
        MetricSpec(TABLE_EXPIRED_TOTAL, "counter", ("table",)),
        MetricSpec(PRODUCER_BUFFER_MESSAGES, "gauge", ()),
    )
}
