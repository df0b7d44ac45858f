"""Publishes events to Kafka with confluent-kafka, keyed so that per-key state stays on one partition."""

import time
from collections.abc import Iterable

from confluent_kafka import Producer
from pydantic import BaseModel

from streamsense.settings import Settings
from streamsense.streams.codec import encode
from streamsense.streams.connections import kafka_config


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
        self.send_raw(topic, key.encode(), encode(event))

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
