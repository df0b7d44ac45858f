"""The shared decide loop of every agent: decode, decide, send, log; offsets move only after all of it.

Faust acks a ``take_events`` batch once the agent asks for the next one, and the consumer commits acked
offsets. So a batch is acked only after its decisions are delivered to Kafka and indexed in
Elasticsearch. If processing is interrupted (shutdown while Elasticsearch is down, say), the batch's
messages are marked so that Faust will not ack them: they are consumed again after the restart.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple

import faust
from faust.types import EventT
from pydantic import BaseModel

from streamsense.schemas.base import Decision
from streamsense.settings import Settings
from streamsense.streams.codec import DecodeError, decode, encode
from streamsense.streams.dead_letters import DeadLetter, dead_letter
from streamsense.streams.decision_log import DecisionLog, Rejected, dead_letter_action, decision_action
from streamsense.streams.metrics import WorkerMetrics
from streamsense.streams.topics import StreamSpec, dlq_topic

log = logging.getLogger(__name__)

Decide = Callable[[Any, float], Decision | None]
"""Turns a validated event and the ``perf_counter`` time it was received into a decision (or None)."""


DecideMany = Callable[[list["Item"], Callable[[EventT], None]], list[Decision | None]]
"""Decides a whole batch at once (one model call for many keys); gets ``bind(event)`` to route table writes."""


class Item(NamedTuple):
    """A decoded event of a batch, with the time it was received."""

    event: EventT
    record: Any
    received: float


class Skip(Exception):
    """A valid event that cannot be used (a label for an unknown transaction, say): dead-lettered with the reason."""


def _hold_offsets(events: Sequence[EventT]) -> None:
    # Faust acks a batch in a ``finally`` even when the agent fails mid-batch. Marking the messages as
    # already acked (without registering their offsets) keeps those offsets out of every commit.
    for event in events:
        event.message.acked = True


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
        self.decisions_topic = app.topic(spec.decisions, key_serializer="raw", value_serializer="raw")
        self.dead_letter_topics = {
            topic: app.topic(dlq_topic(topic), key_serializer="raw", value_serializer="raw")
            for topic in (*spec.inputs, spec.decisions)
        }
        self.publish: Callable[[Decision], bool] = lambda _decision: True
        """Which decisions go to the decision topic; every decision is logged either way."""

    def input_topic(self, name: str) -> faust.TopicT:
        return self.app.topic(name, key_serializer="raw", value_serializer="raw")

    async def run(self, stream: faust.StreamT, schema: type[BaseModel], decide: Decide) -> None:
        """Consume ``stream`` for ever in batches bounded by size and time, deciding event by event."""
        await self._consume(stream, lambda events: self.process(stream, events, schema, decide))

    async def run_batched(self, stream: faust.StreamT, schema: type[BaseModel], decide_many: DecideMany) -> None:
        """Like ``run``, with one ``decide_many`` call per batch for models that are fast only in batches."""
        await self._consume(stream, lambda events: self.process_batched(stream, events, schema, decide_many))

    async def _consume(self, stream: faust.StreamT, handle: Callable[[Sequence[EventT]], Awaitable[None]]) -> None:
        async for events in stream.take_events(self.settings.batch_size, within=self.settings.batch_within_s):
            try:
                await handle(events)
            except BaseException:
                _hold_offsets(events)
                raise

    async def process_batched(
        self, stream: faust.StreamT, events: Sequence[EventT], schema: type[BaseModel], decide_many: DecideMany
    ) -> None:
        letters: list[DeadLetter] = []
        items: list[Item] = []
        for event in events:
            try:
                items.append(
                    Item(event, decode(event.value, schema, self.settings.max_event_bytes), time.perf_counter())
                )
            except DecodeError as error:
                letters.append(self._letter(event, error.kind, error.reason))
        try:
            outcomes = [decide_many(items, stream._set_current_event)]
        except Exception:
            # isolate the event that broke the batch: decide one at a time
            outcomes = []
            for item in items:
                try:
                    outcomes.append(decide_many([item], stream._set_current_event))
                except Exception as error:
                    event = item.event
                    log.exception("decision failed for %s@%d", event.message.topic, event.message.offset)
                    letters.append(self._letter(event, "processing_error", f"{type(error).__name__}: {error}"))
                    outcomes.append([None])
        decisions = [d for outcome in outcomes for d in outcome if d is not None]
        await self.deliver(decisions, letters)
        self.metrics.processed.labels(self.spec.name).inc(len(events))

    async def process(
        self, stream: faust.StreamT, events: Sequence[EventT], schema: type[BaseModel], decide: Decide
    ) -> None:
        decisions: list[Decision] = []
        letters: list[DeadLetter] = []
        for event in events:
            # Table writes inside ``decide`` go to the changelog partition of the current event.
            stream._set_current_event(event)
            message = event.message
            received = time.perf_counter()
            try:
                record = decode(event.value, schema, self.settings.max_event_bytes)
                decision = decide(record, received)
            except DecodeError as error:
                letters.append(self._letter(event, error.kind, error.reason))
                continue
            except Skip as error:
                letters.append(self._letter(event, "unusable", str(error)))
                continue
            except Exception as error:
                log.exception("decision failed for %s[%d]@%d", message.topic, message.partition, message.offset)
                letters.append(self._letter(event, "processing_error", f"{type(error).__name__}: {error}"))
                continue
            if decision is not None:
                decisions.append(decision)
        await self.deliver(decisions, letters)
        self.metrics.processed.labels(self.spec.name).inc(len(events))

    def _letter(self, event: EventT, kind: str, reason: str) -> DeadLetter:
        m = event.message
        if kind == "processing_error":
            self.metrics.failed.labels(self.spec.name).inc()
        self.metrics.dead_letters.labels(dlq_topic(m.topic)).inc()
        return dead_letter(m.topic, m.partition, m.offset, m.key, event.value, kind, reason)

    async def deliver(self, decisions: list[Decision], letters: list[DeadLetter]) -> None:
        """Produce and wait for delivery, then log; only then may the batch be acked."""
        started = time.perf_counter()
        for decision in decisions:
            self.metrics.latency.labels(decision.model.name, "decide").observe(decision.latency_ms / 1000)
        pending = [await self.decisions_topic.send(key=d.key.encode(), value=encode(d)) for d in decisions] + [
            await self.dead_letter_topics[letter.source_topic].send(
                key=letter.key, value=letter.value, headers=letter.headers()
            )
            for letter in letters
        ]
        await asyncio.gather(*pending)
        actions = [decision_action(d) for d in decisions] + [dead_letter_action(letter) for letter in letters]
        rejected = await self.log.write(actions)
        if rejected:
            await self._dead_letter_rejected(rejected, decisions)
        model = decisions[0].model.name if decisions else "none"
        self.metrics.latency.labels(model, "deliver").observe(time.perf_counter() - started)

    async def _dead_letter_rejected(self, rejected: list[Rejected], decisions: list[Decision]) -> None:
        by_id = {d.event_id: d for d in decisions}
        topic = self.dead_letter_topics[self.spec.decisions]
        for item in rejected:
            log.error("elasticsearch rejected %s (%d): %s", item.doc_id, item.status, item.reason)
            decision = by_id.get(item.doc_id)
            value = encode(decision) if decision else item.doc_id.encode()
            await topic.send(
                key=item.doc_id.encode(), value=value, headers=[("dlq.error.reason", item.reason.encode())]
            )
