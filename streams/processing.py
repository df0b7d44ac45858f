"""The shared decide loop of every agent: decode, decide, send, log; offsets move only after all of it.

The stream is read without automatic acks; a batch's events are acked only after its decisions are delivered to
Kafka and indexed in Elasticsearch, and the consumer commits only acked offsets. Batches are decided and their sends
issued in order; the next batch is decided while the previous ones wait for the broker and Elasticsearch (at most
``deliveries_in_flight`` of them), and batches are acked in order. If processing is interrupted (shutdown while
Elasticsearch is down, say), the unconfirmed batches are never acked: they are consumed again after the restart.
"""

import asyncio
import inspect
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, NamedTuple

import faust
import faust.streams
from faust.types import EventT
from pydantic import BaseModel

from streamsense.schemas.base import Decision
from streamsense.settings import Settings
from streamsense.streams.codec import DecodeError, ModelT, appended_at, check_key, decode, encode
from streamsense.streams.connections import ConnectionSetupError
from streamsense.streams.dead_letters import DeadLetter, dead_letter
from streamsense.streams.decision_log import DecisionLog, Rejected, dead_letter_action, decision_action, source_bytes
from streamsense.streams.metrics import WorkerMetrics
from streamsense.streams.packed_table import PackedTable
from streamsense.streams.topics import StreamSpec, dlq_topic

log = logging.getLogger(__name__)

Decide = Callable[[Any, float], "Outcome"]
"""Turns a validated event and the ``perf_counter`` time it was received into its outcome."""

Remove = Callable[[bytes | None, float], "Outcome"]
"""Turns a tombstone (a message with a key and no value: the removal of what the key names) into its outcome, from
its key and the time it was received."""


class Item(NamedTuple):
    """A decoded event of a batch, with the time it was received."""

    event: EventT
    record: Any
    received: float


class Forward(NamedTuple):
    """An event's next stage: ``value`` goes to an internal topic, keyed by ``key`` (the key that stage owns)."""

    key: str
    value: BaseModel


class Record(NamedTuple):
    """A document for the log beside the decisions (a decision's true outcome, say); it goes to no topic."""

    action: dict


class Skip(Exception):
    """A valid event that cannot be used (a label for an unknown transaction, say): dead-lettered with the reason."""

    def __init__(self, reason: str, kind: str = "unusable") -> None:
        super().__init__(reason)
        self.kind = kind


class Decided(NamedTuple):
    """A decision with documents logged beside it, in the same bulk request (what its label will need, say)."""

    decision: Decision
    records: tuple[Record, ...]


Outcome = Decision | Decided | Forward | Record | Skip | None
"""What becomes of one event: a decision (alone or with records), a hand-over to the next stage, a log record,
a dead letter (``Skip``), or nothing."""

DecideMany = Callable[[list[Item]], list[Outcome] | Awaitable[list[Outcome]]]
"""Decides a whole batch at once (one model call for many keys), one outcome per item, in order; routes its table
reads and writes with ``route_table_access``. A coroutine function may read what the batch needs first."""


async def _result(outcomes: list[Outcome] | Awaitable[list[Outcome]]) -> list[Outcome]:
    return await outcomes if inspect.isawaitable(outcomes) else outcomes


def route_table_access(event: EventT) -> None:
    """Send the table reads and writes that follow to the partition of ``event`` (the partition owning its key).

    Faust picks a write's changelog partition from the task's current event, a context variable, and a RocksDB
    table reads and writes that partition's database only (the memory store ignores it). This sets
    only that variable, in the agent's task. ``Stream._set_current_event`` would also overwrite
    ``Stream.current_event``, which the stream's own iteration reads to hand out events: a batch could then hold
    a stale event in place of a new one, the new message would never be acked, and Faust's commit, which lets a
    one-offset hole through, would move past it. That event was lost.
    """
    faust.streams._current_event.set(weakref.ref(event))


def written_at(event: EventT, default: float) -> float:
    """When the broker appended the event's message (every consumed topic is broker-dated), else ``default``: a
    time that a replay of the message reads again, where the reading worker's clock would have moved on."""
    m = event.message
    at = appended_at(m.timestamp, m.timestamp_type)
    return default if at is None else at


def owned_committed_offsets(app: faust.App, topic: str) -> dict[int, int | None]:
    """Per partition of ``topic`` that this worker owns, its committed offset (the next to consume; None before the
    first commit): an expiry pass may drop what only messages before it needed."""
    actives = app.assignor.assigned_actives()
    return {tp.partition: app.consumer.committed_offset(tp) for tp in actives if tp.topic == topic}


async def consume(
    stream: faust.StreamT,
    handle: Callable[[Sequence[EventT]], Awaitable[Awaitable[None]]],
    batch_size: int,
    batch_within_s: float,
    deliveries_in_flight: int,
    abandon: Callable[[list[EventT]], None],
    batch_max_wait_s: float = 0.0,
) -> None:
    """Batch the stream's events ourselves, and ack each batch only after its delivery is confirmed.

    A feeder task iterates the stream without acks (Faust's plain per-event path) into a bounded queue; this
    loop takes up to ``batch_size`` events: while the next comes within ``batch_within_s`` of the one before, up to
    ``batch_max_wait_s`` after the first (at least ``batch_within_s``), and what the feeder had ready after that
    (so a window of 0 still batches the events of one fetch). Faust's
    ``take_events`` was not used: on a restart with a backlog it skipped runs of messages that it never
    yielded (they stayed uncommitted, so they were not lost for good, but the partition's commits stalled).

    ``handle`` decides a batch and issues its sends in order, and returns the confirmation (the broker's acks,
    then the Elasticsearch bulk). Up to ``deliveries_in_flight`` confirmations run while later batches are
    decided; an acker task awaits them in order and acks each batch after its own. A failed confirmation acks
    nothing more: the error ends the agent, which gives up its unacked events (``abandon``), and their
    offsets hold the commit back until the consumer hands them out again (``streams/consumer.py``, lost messages).
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[EventT | Exception] = asyncio.Queue(maxsize=2 * batch_size)
    deliveries: asyncio.Queue[tuple[asyncio.Future, Sequence[EventT]]] = asyncio.Queue()
    slots = asyncio.Semaphore(deliveries_in_flight)
    unacked = stream.noack()
    agent = asyncio.current_task()
    failures: list[Exception] = []
    events: list[EventT] = []
    unacked_events: list[EventT] = []
    failed = False

    async def feed() -> None:
        try:
            async for event in unacked.events():
                await queue.put(event)
        except Exception as error:  # surface it in the agent, which Faust then restarts
            await queue.put(error)

    async def acknowledge() -> None:
        while True:
            confirmation, events = await deliveries.get()
            try:
                await confirmation
            except Exception as error:
                failures.append(error)
                unacked_events.extend(events)
                if agent is not None:
                    agent.cancel()
                return
            for event in events:
                await unacked.ack(event)
            slots.release()

    def checked(item: EventT | Exception) -> EventT:
        if isinstance(item, Exception):
            raise item
        return item

    feeder = asyncio.ensure_future(feed())
    acker = asyncio.ensure_future(acknowledge())
    try:
        while True:
            events = [checked(await queue.get())]
            first = loop.time()
            deadline, latest = first + batch_within_s, first + max(batch_max_wait_s, batch_within_s)
            yielded = False
            while len(events) < batch_size:
                if not queue.empty():
                    item = queue.get_nowait()
                elif (remaining := deadline - loop.time()) <= 0:
                    if yielded:
                        break
                    # the feeder may hold more events of the same fetch: let it run once, without waiting
                    await asyncio.sleep(0)
                    yielded = True
                    continue
                else:
                    try:
                        item = await asyncio.wait_for(queue.get(), remaining)
                    except TimeoutError:
                        break
                events.append(checked(item))
                deadline = max(deadline, min(loop.time() + batch_within_s, latest))
                yielded = False
            if failures:  # the acker's cancel can be lost in ``wait_for`` (Python 3.11)
                raise failures[0]
            await slots.acquire()
            deliveries.put_nowait((asyncio.ensure_future(await handle(events)), events))
    except asyncio.CancelledError:
        if not failures:
            raise
        failed = True
        raise failures[0] from None
    except Exception:
        failed = True
        raise
    finally:
        feeder.cancel()
        acker.cancel()
        while not deliveries.empty():
            confirmation, batch = deliveries.get_nowait()
            confirmation.cancel()
            unacked_events.extend(batch)
        if failed:
            unacked_events.extend(events)
            while not queue.empty():
                if not isinstance(item := queue.get_nowait(), Exception):
                    unacked_events.append(item)
            abandon(unacked_events)


class BatchProcessor:
    """Runs one stream's batches through ``decide`` and delivers the outcome."""

    def __init__(
        self, app: faust.App, spec: StreamSpec, settings: Settings, decision_log: DecisionLog, metrics: WorkerMetrics
    ) -> None:
        self.app = app
        self.spec = spec
        self.settings = settings
        self.log = decision_log
        self.metrics = metrics
        self.decisions_topic = self.raw_topic(spec.decisions)
        self.internal_topics = {topic: self.raw_topic(topic) for topic in spec.internal}
        self.dead_letter_topics = {
            topic: self.raw_topic(dlq_topic(topic)) for topic in (*spec.inputs, *spec.internal, spec.decisions)
        }
        self.publish: Callable[[Decision], bool] = lambda _decision: True
        """Which decisions go to the decision topic; every decision is logged either way."""

    async def expire_settled(
        self, table: PackedTable, topic: str, stale: Callable[[dict[str, Any], int], bool]
    ) -> None:
        """Remove from ``table`` the entries that ``stale`` says no event can need any more, given the committed offset
        of the partition of ``topic`` each entry names (``"p"``), and count them. Entries of a partition this worker
        does not own, or before its first commit, or that name none (written by an earlier release), stay."""
        committed = owned_committed_offsets(self.app, topic)

        async def settled() -> AsyncIterator[tuple[str, int]]:
            async for key, entry in table.scan():
                p = entry.get("p")
                if (offset := committed.get(p)) is not None and stale(entry, offset):
                    yield key, p

        expired = await table.expire(settled())
        self.metrics.expired.labels(table.table.name).inc(expired)

    def raw_topic(self, name: str) -> faust.TopicT:
        """A topic of bytes: the processor decodes and encodes itself, so a bad event is a dead letter, not a crash."""
        return self.app.topic(name, key_serializer="raw", value_serializer="raw")

    async def run(
        self,
        stream: faust.StreamT,
        schema: type[BaseModel],
        decide: Decide,
        forward_to: str | None = None,
        remove: Remove | None = None,
    ) -> None:
        """Consume ``stream`` for ever in batches bounded by size and time, deciding event by event; forwarded
        outcomes go to the internal topic ``forward_to``. Without ``remove``, a tombstone is dead-lettered as
        empty."""
        await self._consume(stream, lambda events: self.process(events, schema, decide, forward_to, remove))

    async def run_batched(
        self, stream: faust.StreamT, schema: type[BaseModel], decide_many: DecideMany, forward_to: str | None = None
    ) -> None:
        """Like ``run``, with one ``decide_many`` call per batch for models that are fast only in batches."""
        await self._consume(stream, lambda events: self.process_batched(events, schema, decide_many, forward_to))

    async def _consume(
        self, stream: faust.StreamT, handle: Callable[[Sequence[EventT]], Awaitable[Awaitable[None]]]
    ) -> None:
        settings = self.settings
        consumer = stream.app.consumer  # the worker's ``streams.consumer.Consumer``

        def abandon(events: list[EventT]) -> None:
            consumer.abandon(event.message for event in events)

        await consume(
            stream,
            handle,
            settings.batch_size,
            settings.batch_within_s,
            settings.deliveries_in_flight,
            abandon,
            settings.batch_max_wait_s,
        )

    async def process_batched(
        self, events: Sequence[EventT], schema: type[BaseModel], decide_many: DecideMany, forward_to: str | None = None
    ) -> Awaitable[None]:
        letters: list[DeadLetter] = []
        items: list[Item] = []
        for event in events:
            try:
                items.append(Item(event, self._decode(event, schema), time.perf_counter()))
            except DecodeError as error:
                letters.append(self._letter(event, error.kind, error.reason))
        try:
            outcomes = await _result(decide_many(items))
        except ConnectionSetupError:
            raise
        except Exception:
            # isolate the event that broke the batch: decide one at a time
            outcomes = []
            for item in items:
                try:
                    outcomes += await _result(decide_many([item]))
                except ConnectionSetupError:
                    raise
                except Exception as error:
                    outcomes.append(self._failed(item.event, error))
        return await self._finish(events, items, outcomes, letters, forward_to)

    async def process(
        self,
        events: Sequence[EventT],
        schema: type[BaseModel],
        decide: Decide,
        forward_to: str | None = None,
        remove: Remove | None = None,
    ) -> Awaitable[None]:
        letters: list[DeadLetter] = []
        items: list[Item] = []
        outcomes: list[Outcome] = []
        for event in events:
            route_table_access(event)
            received = time.perf_counter()
            if event.value is None and remove is not None:
                items.append(Item(event, None, received))
                outcomes.append(self._outcome(event, remove, event.message.key, received))
                continue
            try:
                record = self._decode(event, schema)
            except DecodeError as error:
                letters.append(self._letter(event, error.kind, error.reason))
                continue
            items.append(Item(event, record, received))
            outcomes.append(self._outcome(event, decide, record, received))
        return await self._finish(events, items, outcomes, letters, forward_to)

    def _outcome(self, event: EventT, decide: Callable[[Any, float], Outcome], arg: Any, received: float) -> Outcome:
        try:
            return decide(arg, received)
        except Skip as error:
            return error
        except Exception as error:
            return self._failed(event, error)

    def _decode(self, event: EventT, schema: type[ModelT]) -> ModelT:
        settings, m = self.settings, event.message
        now = appended_at(m.timestamp, m.timestamp_type)
        record = decode(event.value, schema, settings.max_event_bytes, settings.max_event_ahead_s, now)
        return check_key(record, m.key)

    def _failed(self, event: EventT, error: Exception) -> Skip:
        m = event.message
        log.exception("decision failed for %s[%d]@%d", m.topic, m.partition, m.offset)
        self.metrics.failed.labels(self.spec.name).inc()
        return Skip(f"{type(error).__name__}: {error}", kind="processing_error")

    async def _finish(
        self,
        events: Sequence[EventT],
        items: list[Item],
        outcomes: list[Outcome],
        letters: list[DeadLetter],
        forward_to: str | None,
    ) -> Awaitable[None]:
        decisions: list[Decision] = []
        forwards: list[Forward] = []
        records: list[Record] = []
        for item, outcome in zip(items, outcomes, strict=True):
            if isinstance(outcome, Skip):
                letters.append(self._letter(item.event, outcome.kind, str(outcome)))
            elif isinstance(outcome, Forward):
                forwards.append(outcome)
            elif isinstance(outcome, Record):
                records.append(outcome)
            elif isinstance(outcome, Decided):
                decisions.append(outcome.decision)
                records += outcome.records
            elif outcome is not None:
                decisions.append(outcome)
        if forwards and forward_to is None:
            raise RuntimeError(f"{self.spec.name}: an agent forwarded events without a forward_to topic")
        confirmation = await self.send(
            decisions, letters, forwards, self.internal_topics.get(forward_to or ""), records
        )
        self.metrics.processed.labels(self.spec.name).inc(len(events))
        return confirmation

    def _letter(self, event: EventT, kind: str, reason: str) -> DeadLetter:
        m = event.message
        self.metrics.dead_letters.labels(dlq_topic(m.topic)).inc()
        return dead_letter(m.topic, m.partition, m.offset, m.timestamp, m.key, event.value, kind, reason, m.headers)

    async def send(
        self,
        decisions: list[Decision],
        letters: list[DeadLetter],
        forwards: Sequence[Forward] = (),
        forward_topic: faust.TopicT | None = None,
        records: Sequence[Record] = (),
    ) -> Awaitable[None]:
        """Issue the batch's sends, in order; returns its confirmation: the broker's acks, then the log. Only after
        the confirmation may the batch be acked."""
        started = time.perf_counter()
        for decision in decisions:
            self.metrics.latency.labels(decision.model.name, "decide").observe(decision.latency_ms / 1000)
        encoded = [encode(d) for d in decisions]
        pending = [
            await self._produce(self.decisions_topic, d.key.encode(), value)
            for d, value in zip(decisions, encoded, strict=True)
            if self.publish(d)
        ]
        if forward_topic is not None:
            pending += [await self._produce(forward_topic, f.key.encode(), encode(f.value)) for f in forwards]
        pending += [
            await self._produce(
                self.dead_letter_topics[letter.source_topic], letter.key, letter.value, letter.headers()
            )
            for letter in letters
        ]
        actions = [decision_action(d, value) for d, value in zip(decisions, encoded, strict=True)]
        actions += [dead_letter_action(letter) for letter in letters]
        actions += [record.action for record in records]
        return self._confirm(pending, actions, decisions, started)

    async def _produce(
        self, topic: faust.TopicT, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> Awaitable:
        """Hand one record to the producer; returns the broker's acknowledgement to await. The bytes go straight to
        Faust's producer: ``Topic.send`` wraps every record in Faust's own future, callbacks and sensor calls, about
        6% of a payments worker's samples with py-spy ``--gil`` on a backlog, for nothing the batch needs."""
        return await self.app.producer.send(topic.get_topic_name(), key, value, None, None, headers)

    async def _confirm(
        self, pending: list[Awaitable], actions: list[dict], decisions: list[Decision], started: float
    ) -> None:
        await asyncio.gather(*pending)
        if actions:
            rejected = await self.log.write(actions)
            if rejected:
                await self._dead_letter_rejected(rejected, actions)
        model = decisions[0].model.name if decisions else "none"
        self.metrics.latency.labels(model, "deliver").observe(time.perf_counter() - started)

    async def _dead_letter_rejected(self, rejected: list[Rejected], actions: list[dict]) -> None:
        """Dead-letter each document Elasticsearch refused (a decision, an awaiting-label entry, a labelled row) with
        the index it was meant for, and wait for the broker's acks: the batch is acked after this."""
        sources = {(a["_index"], a["_id"]): a["_source"] for a in actions}
        topic = self.dead_letter_topics[self.spec.decisions]
        pending = []
        for item in rejected:
            log.error("elasticsearch rejected %s/%s (%d): %s", item.index, item.doc_id, item.status, item.reason)
            value = source_bytes(sources[item.index, item.doc_id])
            headers = [("dlq.error.reason", item.reason.encode()), ("dlq.index", item.index.encode())]
            pending.append(await self._produce(topic, item.doc_id.encode(), value, headers))
            self.metrics.dead_letters.labels(dlq_topic(self.spec.decisions)).inc()
        await asyncio.gather(*pending)
