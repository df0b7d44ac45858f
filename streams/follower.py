"""A whole topic read by every worker, without a consumer group: a broadcast of the events that each replica needs.

A consumer group hands each partition to one worker; an intent added at run time must reach them all, and a
restarted worker must learn it again, so each one reads the (compacted) topic from its beginning and follows it.
"""

import asyncio
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from streamsense.settings import Settings
from streamsense.streams.admin import partition_count
from streamsense.streams.connections import aiokafka_options

log = logging.getLogger(__name__)
Apply = Callable[[bytes | None, bytes | None], None]


async def follow(settings: Settings, topic: str, apply: Apply, poll_ms: int = 1000) -> None:
    """Hand ``apply`` (key, value) of every message of ``topic`` from its beginning, then of each new one, in
    offset order per partition, until cancelled."""
    partitions = await asyncio.to_thread(partition_count, settings, topic)
    if not partitions:
        raise RuntimeError(f"topic {topic} does not exist")
    consumer = AIOKafkaConsumer(
        group_id=None, enable_auto_commit=False, auto_offset_reset="earliest", **aiokafka_options(settings)
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        await consumer.seek_to_beginning()
        while True:
            for _, messages in sorted((await consumer.getmany(timeout_ms=poll_ms)).items()):
                for message in messages:
                    apply(message.key, message.value)
    finally:
        await consumer.stop()


async def follow_forever(settings: Settings, topic: str, apply: Apply, retry_s: float = 5.0) -> None:
    """``follow``, started again from the beginning after a failure (``apply`` must take an event twice)."""
    while True:
        try:
            await follow(settings, topic, apply)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("following %s failed; reading it again in %.0f s", topic, retry_s)
            await asyncio.sleep(retry_s)
