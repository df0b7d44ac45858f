"""Publishes events to Kafka with confluent-kafka, keyed so that per-key state stays on one partition."""

import time
from collections.abc import Iterable

from confluent_kafka import Producer
from pydantic import BaseModel

from streamsense.settings import Settings
from streamsense.streams.codec import encode, key_mismatch
from streamsense.streams.connections import kafka_config


class EventTooLarge(ValueError):
    """An event over the size every worker refuses."""


def encoded_within(event: BaseModel, max_bytes: int) -> bytes:
    """The event encoded, or ``EventTooLarge`` where it is over ``max_bytes``."""
    value = encode(event)
    if len(value) > max_bytes:
        raise EventTooLarge(
            f"the event is {len(value):,} bytes and workers refuse events over {max_bytes:,}"
            " (STREAMSENSE_MAX_EVENT_BYTES): send less in it"
        )
    return value


class EventProducer:
    """Reliable producer: idempotent, acks from all replicas, the Java-compatible murmur2 partitioner.

    murmur2 matters: Faust (aiokafka) and every Java client place a key on the same partition, so the
    transactions and labels of one account land on the same partition number of both topics.
    """

    def __init__(self, settings: Settings) -> None:
        self.producer = Producer(
            {
                **kafka_config(settings),
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "compression.type": "lz4",
                "partitioner": "murmur2_random",
            }
        )
        self.errors: list[str] = []
        self.max_event_bytes = settings.max_event_bytes

    def _on_delivery(self, error: object, _message: object) -> None:
        if error is not None:
            self.errors.append(str(error))

    def send_raw(self, topic: str, key: bytes | None, value: bytes | None, headers: list | None = None) -> None:
        while True:
            try:
                self.producer.produce(topic, key=key, value=value, headers=headers, on_delivery=self._on_delivery)
                break
            except BufferError:
                self.producer.poll(0.1)
        self.producer.poll(0)

    def send(self, topic: str, key: str, event: BaseModel) -> None:
        """Raises ``EventTooLarge`` for an event the workers would refuse for its size (a valid one: the schemas
        bound each field, not the whole), and ``ValueError`` for one keyed otherwise than by its own key
        (``Event.KEY_FIELD``), so that the sender hears it rather than the dead-letter topic."""
        if reason := key_mismatch(event, key.encode()):
            raise ValueError(reason)
        self.send_raw(topic, key.encode(), encoded_within(event, self.max_event_bytes))

    def flush(self, timeout_s: float = 30.0) -> None:
        remaining = self.producer.flush(timeout_s)
        if remaining:
            raise RuntimeError(f"{remaining} messages were not delivered within {timeout_s}s")
        if self.errors:
            raise RuntimeError(f"{len(self.errors)} messages failed: {self.errors[0]}")


def paced(items: Iterable, rate: float | None) -> Iterable:
    """Yield items at about ``rate`` per second (as fast as possible when None)."""
    if not rate:
        yield from items
        return
    start = time.perf_counter()
    for n, item in enumerate(items):
        ahead = n / rate - (time.perf_counter() - start)
        if ahead > 0:
            time.sleep(ahead)
        yield item
