"""Whole topics read by every worker, without a consumer group: a broadcast of the events that each replica needs.

A consumer group hands each partition to one worker; an intent added at run time, or feedback that teaches the
intent model, must reach them all, and a restarted worker must learn them again, so each one reads the topics from
their beginning and follows them. Every worker applies the messages in the order the broker wrote them (their
append time, then topic, partition and offset), the order in which the live workers met them: a worker started
later then reaches the same model, also where feedback came before the intent it names (refused live, so refused
again) or on several partitions (EWC steps do not commute).
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from streamsense.settings import Settings
from streamsense.streams.admin import partition_count
from streamsense.streams.codec import DecodeError, ModelT, appended_at, check_key, decode, key_text
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


def decoding(
    schema: type[ModelT],
    settings: Settings,
    apply: Callable[[ModelT, float | None], object],
    remove: Callable[[str, float | None], object] | None = None,
) -> Apply:
    """An applier that hands ``apply`` each valid event, judged as the stream's consumer group judges it (with the
    broker's append time; its agent dead-letters the others), and ``remove`` the key of each tombstone, each with
    its append time."""

    def applier(key: bytes | None, value: bytes | None, appended: float | None) -> None:
        if value is None and remove is not None:
            remove(key_text(key), appended)
            return
        try:
            event = decode(value, schema, settings.max_event_bytes, settings.max_event_ahead_s, appended)
            check_key(event, key)
        except DecodeError:
            return
        apply(event, appended)

    return applier


def _order(topics: list[str]) -> Callable[[ConsumerRecord], tuple]:
    """The order the broker wrote messages in: append time, then the order of ``topics``, partition, offset."""
    rank = {topic: n for n, topic in enumerate(topics)}
    return lambda m: (m.timestamp, rank[m.topic], m.partition, m.offset)


async def _start(consumer: AIOKafkaConsumer, partitions: list[TopicPartition], positions: Positions) -> None:
    consumer.assign(partitions)
    for tp in partitions:
        if tp in positions:
            consumer.seek(tp, positions[tp])
        else:
            await consumer.seek_to_beginning(tp)


async def _catch_up(
    consumer: AIOKafkaConsumer,
    appliers: dict[str, Apply],
    positions: Positions,
    poll_ms: int,
    until: dict[TopicPartition, int],
    fetched: dict[TopicPartition, list[ConsumerRecord]] | None = None,
) -> None:
    """Apply every message before ``until`` in the broker's order: a merge of the partitions, each read in offset
    order, that applies a message only once every partition not yet read to its end has one waiting. ``fetched``
    holds messages the consumer handed out already, which the merge takes first."""
    order = _order(list(appliers))
    waiting: dict[TopicPartition, deque[ConsumerRecord]] = {tp: deque() for tp in until}  # until read to its end
    beyond: dict[TopicPartition, int] = {}  # the first offset fetched past the end, to read again when following

    def take(batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        for tp, messages in batches.items():
            for m in messages:
                if m.offset < until[tp]:
                    waiting[tp].append(m)
                else:
                    beyond.setdefault(tp, m.offset)

    take(fetched or {})
    while True:
        unread = []
        for tp in [tp for tp, queue in waiting.items() if not queue]:
            if await consumer.position(tp) >= until[tp]:
                del waiting[tp]
            else:
                unread.append(tp)
        if not waiting:
            for tp, offset in beyond.items():
                consumer.seek(tp, offset)
            return
        if unread:
            take(await consumer.getmany(*unread, timeout_ms=poll_ms))
            continue
        tp = min(waiting, key=lambda tp: order(waiting[tp][0]))
        message = waiting[tp].popleft()
        _apply(appliers[tp.topic], tp.topic, message)
        positions[tp] = message.offset + 1
        await asyncio.sleep(0)  # a long catch-up must not hold the worker's event loop


async def _follow(consumer: AIOKafkaConsumer, appliers: dict[str, Apply], positions: Positions, poll_ms: int) -> None:
    """Apply the messages as they come, in the broker's order, until cancelled: whenever a poll brings any, every
    message written before the partitions' ends at that moment, merged as at start. Sorting each poll alone was not
    enough: the client may hand a partition's older messages in a later poll (aiokafka leaves a partition out of a
    fetch while its earlier messages wait unread), and a live worker then applied two events in another order than
    a worker that read them at start."""
    partitions = list(consumer.assignment())
    while True:
        fetched = await consumer.getmany(timeout_ms=poll_ms)
        if any(fetched.values()):
            until = await consumer.end_offsets(partitions)
            await _catch_up(consumer, appliers, positions, poll_ms, until, fetched)


async def applied(positions: Positions, topic: str, partition: int, offset: int, poll_s: float = 0.05) -> None:
    """Wait until the follower keeping ``positions`` has applied the message at ``offset``: what it did with it then
    followed from the messages written before it, as on every replica."""
    tp = TopicPartition(topic, partition)
    while positions.get(tp, 0) <= offset:
        await asyncio.sleep(poll_s)


async def _consumer(
    settings: Settings, topics: Iterable[str], positions: Positions
) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    """A started consumer without a group, assigned every partition of ``topics`` from ``positions``."""
    partitions: list[TopicPartition] = []
    for topic in topics:
        count = await asyncio.to_thread(partition_count, settings, topic)
        if not count:
            raise RuntimeError(f"topic {topic} does not exist")
        partitions += [TopicPartition(topic, p) for p in range(count)]
    consumer = AIOKafkaConsumer(
        group_id=None, enable_auto_commit=False, auto_offset_reset="earliest", **aiokafka_options(settings)
    )
    await consumer.start()
    try:
        await _start(consumer, partitions, positions)
    except BaseException:
        await consumer.stop()
        raise
    return consumer, partitions


async def follow(settings: Settings, appliers: dict[str, Apply], positions: Positions, poll_ms: int = 1000) -> None:
    """Hand each topic's ``appliers`` entry (key, value, append time) of its messages from ``positions`` (the
    beginning where it has none) in the order the broker wrote them: all up to the ends they had at the start, then
    as they come, until cancelled. ``positions`` is kept up to date, so that a later call goes on where this one
    stopped."""
    consumer, partitions = await _consumer(settings, appliers, positions)
    try:
        started = asyncio.get_running_loop().time()
        await _catch_up(consumer, appliers, positions, poll_ms, await consumer.end_offsets(partitions))
        log.info("read %s up to their ends in %.1f s", ", ".join(appliers), asyncio.get_running_loop().time() - started)
        await _follow(consumer, appliers, positions, poll_ms)
    finally:
        await consumer.stop()


async def read_whole(settings: Settings, appliers: dict[str, Apply], poll_ms: int = 1000) -> None:
    """Hand ``appliers`` every message the topics hold now, in the order the broker wrote them, as a follower
    starting afresh would, then stop."""
    positions: Positions = {}
    consumer, partitions = await _consumer(settings, appliers, positions)
    try:
        await _catch_up(consumer, appliers, positions, poll_ms, await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def follow_forever(
    settings: Settings, appliers: dict[str, Apply], positions: Positions, retry_s: float = 5.0
) -> None:
    """``follow``, started again after a failure where it stopped: no event is applied twice."""
    while True:
        try:
            await follow(settings, appliers, positions)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("following %s failed; reading on in %.0f s", ", ".join(appliers), retry_s)
            await asyncio.sleep(retry_s)
