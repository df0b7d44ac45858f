"""Whole topics read by every worker, without a consumer group: a broadcast of the events that each replica needs.

A consumer group hands each partition to one worker; an intent added at run time, or feedback that teaches the
intent model, must reach them all, and a restarted worker must learn them again, so each one reads the topics from
their beginning and follows them. At start the topics are read one after the other, each up to the end it had, so
that feedback for an added intent comes after the intent.
"""

import asyncio
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from streamsense.settings import Settings
from streamsense.streams.admin import partition_count
from streamsense.streams.codec import appended_at
from streamsense.streams.connections import aiokafka_options

log = logging.getLogger(__name__)
Apply = Callable[[bytes | None, bytes | None, float | None], None]
"""Applies one message from its key, its value and the time the broker appended it (None where the producer dated
it)."""
Positions = dict[TopicPartition, int]


def _apply(apply: Apply, topic: str, message: ConsumerRecord) -> None:
    """One bad event must not stop the events after it: its error is logged and the event passed over."""
    try:
        timestamp_s = None if message.timestamp is None else message.timestamp / 1000
        apply(message.key, message.value, appended_at(timestamp_s, message.timestamp_type))
    except Exception:
        log.exception("an event of %s could not be applied", topic)


async def _read(
    consumer: AIOKafkaConsumer,
    partitions: list[TopicPartition],
    appliers: dict[str, Apply],
    positions: Positions,
    poll_ms: int,
    until: dict[TopicPartition, int] | None = None,
) -> None:
    """Apply the messages of ``partitions`` from ``positions`` on, until every partition reaches ``until`` (or for
    ever); ``positions`` then holds the offset after the last applied message of each."""
    consumer.assign(partitions)
    for tp in partitions:
        if tp in positions:
            consumer.seek(tp, positions[tp])
        else:
            await consumer.seek_to_beginning(tp)

    async def caught_up() -> bool:
        return until is not None and all([await consumer.position(tp) >= end for tp, end in until.items()])

    while not await caught_up():
        for tp, messages in sorted((await consumer.getmany(timeout_ms=poll_ms)).items()):
            for message in messages:
                _apply(appliers[tp.topic], tp.topic, message)
                positions[tp] = message.offset + 1
                await asyncio.sleep(0)  # a long catch-up must not hold the worker's event loop


async def follow(settings: Settings, appliers: dict[str, Apply], positions: Positions, poll_ms: int = 1000) -> None:
    """Hand each topic's ``appliers`` entry (key, value) of its messages in offset order per partition, from
    ``positions`` (the beginning where it has none): first topic by topic in the order of ``appliers``, each up to the
    end it had at the start, then as they come, until cancelled. ``positions`` is kept up to date, so that a later
    call goes on where this one stopped."""
    by_topic: dict[str, list[TopicPartition]] = {}
    for topic in appliers:
        count = await asyncio.to_thread(partition_count, settings, topic)
        if not count:
            raise RuntimeError(f"topic {topic} does not exist")
        by_topic[topic] = [TopicPartition(topic, p) for p in range(count)]
    consumer = AIOKafkaConsumer(
        group_id=None, enable_auto_commit=False, auto_offset_reset="earliest", **aiokafka_options(settings)
    )
    await consumer.start()
    try:
        for topic, partitions in by_topic.items():
            started = asyncio.get_running_loop().time()
            await _read(consumer, partitions, appliers, positions, poll_ms, await consumer.end_offsets(partitions))
            log.info("read %s up to its end in %.1f s", topic, asyncio.get_running_loop().time() - started)
        await _read(
            consumer, [tp for partitions in by_topic.values() for tp in partitions], appliers, positions, poll_ms
        )
    finally:
        await consumer.stop()


async def follow_forever(settings: Settings, appliers: dict[str, Apply], retry_s: float = 5.0) -> None:
    """``follow``, started again after a failure where it stopped: no event is applied twice."""
    positions: Positions = {}
    while True:
        try:
            await follow(settings, appliers, positions)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("following %s failed; reading on in %.0f s", ", ".join(appliers), retry_s)
            await asyncio.sleep(retry_s)
