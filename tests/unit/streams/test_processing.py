import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import faust
import pytest

from streamsense.schemas.base import ModelRef
from streamsense.schemas.payments import PaymentDecision, TransactionLabel
from streamsense.settings import Settings
from streamsense.streams.decision_log import Rejected
from streamsense.streams.metrics import WorkerMetrics
from streamsense.streams.processing import (
    BatchProcessor,
    Decided,
    Item,
    Outcome,
    Record,
    Skip,
    consume,
    written_at,
)
from streamsense.streams.topics import STREAMS


class FakeStream:
    """A stream of numbered events that records the order of acks; ``pause_after`` events arrive in a later fetch."""

    def __init__(self, count: int, pause_after: int | None = None, interval_s: float = 0.0) -> None:
        self.count = count
        self.pause_after = pause_after
        self.interval_s = interval_s
        self.acked: list[int] = []
        self.abandoned: list[int] = []

    def noack(self) -> "FakeStream":
        return self

    async def events(self) -> AsyncIterator[int]:
        for event in range(self.count):
            if event == self.pause_after:
                await asyncio.sleep(0.1)
            yield event
            await asyncio.sleep(self.interval_s)  # 0: like Faust's iteration, which may let other tasks run
        await asyncio.Event().wait()

    async def ack(self, event: int) -> None:
        self.acked.append(event)


def _run(
    stream: FakeStream,
    handle,
    in_flight: int,
    until,
    batch_size: int = 3,
    within_s: float = 0.01,
    max_wait_s: float = 0.0,
) -> None:
    async def main() -> None:
        agent = asyncio.ensure_future(
            consume(stream, handle, batch_size, within_s, in_flight, stream.abandoned.extend, max_wait_s)
        )
        for _ in range(400):
            await asyncio.sleep(0.005)
            if until() or agent.done():
                break
        agent.cancel()
        with pytest.raises(asyncio.CancelledError):
            await agent

    asyncio.run(main())


def test_batches_are_acked_in_order_after_their_confirmation_even_if_a_later_one_confirms_first():
    stream = FakeStream(6)
    batches: list[Sequence[int]] = []

    async def handle(events: Sequence[int]) -> Awaitable[None]:
        batches.append(list(events))
        index = len(batches) - 1

        async def confirm() -> None:
            await asyncio.sleep(0.2 if index == 0 else 0.0)  # the first batch's log is slow

        return confirm()

    _run(stream, handle, in_flight=2, until=lambda: len(stream.acked) == 6)
    assert batches == [[0, 1, 2], [3, 4, 5]]
    assert stream.acked == [0, 1, 2, 3, 4, 5]


def test_without_a_window_a_batch_holds_the_events_ready_and_does_not_wait_for_later_ones():
    stream = FakeStream(7, pause_after=4)
    batches: list[list[int]] = []

    async def handle(events: Sequence[int]) -> Awaitable[None]:
        batches.append(list(events))
        return asyncio.sleep(0)

    _run(stream, handle, in_flight=2, until=lambda: len(stream.acked) == 7, batch_size=10, within_s=0.0)
    assert batches == [[0, 1, 2, 3], [4, 5, 6]]


def test_a_batch_waits_past_its_window_while_events_keep_coming_up_to_its_longest_wait():
    batches: list[list[int]] = []

    async def handle(events: Sequence[int]) -> Awaitable[None]:
        batches.append(list(events))
        return asyncio.sleep(0)

    def run(max_wait_s: float) -> list[list[int]]:
        batches.clear()
        stream = FakeStream(8, interval_s=0.01)  # an event every 10 ms: each within 30 ms of the one before
        _run(stream, handle, 2, lambda: len(stream.acked) == 8, batch_size=100, within_s=0.03, max_wait_s=max_wait_s)
        return list(batches)

    assert run(max_wait_s=1.0) == [list(range(8))]
    capped = run(max_wait_s=0.0)  # 30 ms after its first event at most
    assert len(capped) > 1 and [e for batch in capped for e in batch] == list(range(8))


def test_the_next_batch_is_decided_while_the_previous_one_is_being_confirmed():
    stream = FakeStream(6)
    decided_while_unconfirmed: list[bool] = []
    confirmed: list[int] = []

    async def handle(events: Sequence[int]) -> Awaitable[None]:
        decided_while_unconfirmed.append(events[0] > 0 and 0 not in confirmed)

        async def confirm() -> None:
            await asyncio.sleep(0.1)
            confirmed.extend(events)

        return confirm()

    _run(stream, handle, in_flight=2, until=lambda: len(stream.acked) == 6)
    assert decided_while_unconfirmed == [False, True]


def test_one_delivery_in_flight_decides_only_after_the_previous_batch_is_acked():
    stream = FakeStream(6)
    acked_when_decided: list[int] = []

    async def handle(events: Sequence[int]) -> Awaitable[None]:
        acked_when_decided.append(len(stream.acked))

        async def confirm() -> None:
            await asyncio.sleep(0.05)

        return confirm()

    _run(stream, handle, in_flight=1, until=lambda: len(stream.acked) == 6)
    assert acked_when_decided == [0, 3]


def test_a_failed_confirmation_acks_nothing_after_it_gives_up_every_unacked_event_and_ends_the_agent():
    stream = FakeStream(9)

    async def handle(events: Sequence[int]) -> Awaitable[None]:
        async def confirm() -> None:
            if events[0] == 3:
                raise RuntimeError("elasticsearch said no")

        return confirm()

    async def main() -> None:
        agent = asyncio.ensure_future(consume(stream, handle, 3, 0.01, 2, stream.abandoned.extend))
        with pytest.raises(RuntimeError, match="elasticsearch said no"):
            await asyncio.wait_for(agent, 5)

    asyncio.run(main())
    assert stream.acked == [0, 1, 2]
    # the failed batch and whatever was fed after it: the consumer hands them out again
    assert {3, 4, 5} <= set(stream.abandoned) and set(stream.acked) | set(stream.abandoned) == set(range(9))


class Delivered(NamedTuple):
    decisions: list
    records: list
    letters: list


class CapturingProcessor(BatchProcessor):
    """A processor whose deliveries are recorded instead of sent (the decide path under test ends there)."""

    def __init__(self) -> None:
        super().__init__(faust.App("test-processing"), STREAMS["payments"], Settings(), None, WorkerMetrics())
        self.delivered: list[Delivered] = []

    async def send(self, decisions, letters, forwards=(), forward_topic=None, records=()) -> Awaitable[None]:
        self.delivered.append(Delivered(list(decisions), list(records), list(letters)))
        return asyncio.sleep(0)


class FakeMessage(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    timestamp: float | None = None
    timestamp_type: int = 0
    headers: list[tuple[str, bytes]] | None = None


@dataclass
class FakeEvent:
    value: bytes | None
    message: FakeMessage


def label_event(offset: int) -> FakeEvent:
    label = TransactionLabel(
        event_id=f"label-{offset}",
        event_time=datetime(2026, 4, 1, tzinfo=UTC),
        transaction_id=f"tx-{offset}",
        account_id="acct",
        is_fraud=False,
    )
    return FakeEvent(label.model_dump_json().encode(), FakeMessage("payments.labels", 0, offset, b"acct"))


def test_a_batch_decided_by_a_coroutine_delivers_each_decision_with_its_records_and_skips_as_dead_letters():
    processor = CapturingProcessor()
    decision = PaymentDecision(
        event_id="tx-0",
        event_time=datetime(2026, 4, 1, tzinfo=UTC),
        decided_at=datetime(2026, 4, 1, tzinfo=UTC),
        key="acct",
        model=ModelRef(name="m", version="v"),
        score=0.1,
        label="legit",
        threshold=0.5,
        latency_ms=1.0,
    )
    record = Record({"_op_type": "index", "_index": "beside", "_id": "tx-0", "_source": {}})

    async def decide_many(items: list[Item]) -> list[Outcome]:
        await asyncio.sleep(0)  # what the batch needs is read first (Elasticsearch, for labels)
        return [Decided(decision, (record,)), Skip("no scored transaction tx-1 awaits a label")][: len(items)]

    async def main() -> None:
        confirmation = await processor.process_batched([label_event(0), label_event(1)], TransactionLabel, decide_many)
        await confirmation

    asyncio.run(main())

    [delivered] = processor.delivered
    assert delivered.decisions == [decision]
    assert delivered.records == [record]
    assert [letter.reason for letter in delivered.letters] == ["no scored transaction tx-1 awaits a label"]


def test_a_tombstone_goes_to_the_removal_handler_with_its_key_and_without_one_is_dead_lettered_as_empty():
    processor = CapturingProcessor()
    removed: list[bytes | None] = []

    def remove(key: bytes | None, received: float) -> None:
        removed.append(key)
        if key == b"trained":
            raise Skip("only added intents can be removed")

    def decide(label: TransactionLabel, received: float) -> None:
        return None

    keys = [b"a", b"trained"]
    tombstones = [FakeEvent(None, FakeMessage("payments.labels", 0, n, key)) for n, key in enumerate(keys)]

    async def main() -> None:
        await (await processor.process([*tombstones, label_event(2)], TransactionLabel, decide, remove=remove))
        await (await processor.process(tombstones[:1], TransactionLabel, decide))

    asyncio.run(main())
    with_handler, without = processor.delivered
    assert removed == [b"a", b"trained"]
    assert [(letter.kind, letter.reason) for letter in with_handler.letters] == [
        ("unusable", "only added intents can be removed")
    ]
    assert [letter.kind for letter in without.letters] == ["empty"]


def test_an_event_the_broker_dated_is_refused_when_it_was_written_too_far_ahead_of_that_date():
    processor = CapturingProcessor()
    now = datetime.now(UTC)
    label = TransactionLabel(event_id="l", event_time=now, transaction_id="tx", account_id="acct", is_fraud=False)
    written_s = now.timestamp() - 7200  # appended two hours before the event's date, read now
    events = [
        FakeEvent(label.model_dump_json().encode(), FakeMessage("payments.labels", 0, 0, b"acct", written_s, 1)),
        FakeEvent(label.model_dump_json().encode(), FakeMessage("payments.labels", 0, 1, b"acct", written_s, 0)),
    ]

    async def main() -> None:
        await (await processor.process(events, TransactionLabel, lambda label, received: None))

    asyncio.run(main())
    [delivered] = processor.delivered
    assert [(letter.source_offset, letter.kind) for letter in delivered.letters] == [(0, "invalid_field")]


def test_an_event_keyed_otherwise_is_dead_lettered_as_wrong_key_with_its_own_headers_and_the_rest_decided():
    processor = CapturingProcessor()
    good, other, unkeyed = label_event(0), label_event(1), label_event(2)
    trace = [("traceparent", b"00-abc-01"), ("dlq.error.kind", b"stale")]
    other.message = other.message._replace(key=b"acct-9", headers=trace)
    unkeyed.message = unkeyed.message._replace(key=None)
    decided: list[str] = []

    def decide(label: TransactionLabel, received: float) -> None:
        decided.append(label.event_id)

    async def main() -> None:
        await (await processor.process([good, other, unkeyed], TransactionLabel, decide))

    asyncio.run(main())
    [delivered] = processor.delivered
    assert decided == ["label-0"]
    assert [(letter.source_offset, letter.kind) for letter in delivered.letters] == [(1, "wrong_key"), (2, "wrong_key")]
    headers = delivered.letters[0].headers()
    assert headers[0] == ("traceparent", b"00-abc-01"), "the message's own headers come first, as they came"
    assert dict(headers)["dlq.error.kind"] == b"wrong_key", "a header of the dead letter's own name gives way"
    assert "the key 'acct-9', not its account_id 'acct'" in delivered.letters[0].reason
    assert "no key" in delivered.letters[1].reason


def test_an_event_is_dated_by_the_broker_where_it_dated_the_message_and_else_by_the_given_clock():
    appended = FakeEvent(b"{}", FakeMessage("sensor.readings", 0, 0, b"a", 1_000.0, 1))
    produced = FakeEvent(b"{}", FakeMessage("sensor.readings", 0, 1, b"a", 1_000.0, 0))
    assert (written_at(appended, 5_000.0), written_at(produced, 5_000.0)) == (1_000.0, 5_000.0)


def test_a_document_elasticsearch_refused_is_dead_lettered_by_its_index_and_id_not_its_namesake_in_another_index():
    """A transaction's decision and its awaiting-label entry share an id: the refused one is the one kept."""
    sent: list[tuple[str, bytes | None, bytes, dict]] = []

    class Producing(CapturingProcessor):
        async def _produce(self, topic, key, value, headers=None) -> Awaitable[None]:
            sent.append((topic.get_topic_name(), key, value, dict(headers or [])))
            return asyncio.sleep(0)

    processor = Producing()
    actions = [
        {"_op_type": "index", "_index": "streamsense-decisions-payments", "_id": "tx-1", "_source": b'{"d":1}'},
        {"_op_type": "index", "_index": "streamsense-fraud-awaiting-labels", "_id": "tx-1", "_source": {"a": 2}},
    ]
    refused = Rejected("streamsense-fraud-awaiting-labels", "tx-1", 400, "mapper_parsing_exception")
    asyncio.run(processor._dead_letter_rejected([refused], actions))
    assert sent == [
        (
            "payments.decisions.dlq",
            b"tx-1",
            b'{"a":2}',
            {"dlq.error.reason": b"mapper_parsing_exception", "dlq.index": b"streamsense-fraud-awaiting-labels"},
        )
    ]
