import asyncio
from collections import namedtuple
from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition

from streamsense.schemas.chat import NewIntent
from streamsense.settings import Settings
from streamsense.streams.follower import Positions, _follow, applied, decoding


def test_applied_waits_until_the_follower_has_passed_the_message() -> None:
    positions: Positions = {TopicPartition("chat.feedback", 3): 7}
    tp = TopicPartition("chat.feedback", 3)

    async def main() -> list[str]:
        events: list[str] = []

        async def follower() -> None:
            await asyncio.sleep(0.05)
            events.append("offset 7 applied")
            positions[tp] = 8

        async def check() -> None:
            await applied(positions, "chat.feedback", 3, 6, poll_s=0.001)
            events.append("offset 6 checked")
            await applied(positions, "chat.feedback", 3, 7, poll_s=0.001)
            events.append("offset 7 checked")

        await asyncio.gather(follower(), check())
        return events

    assert asyncio.run(main()) == ["offset 6 checked", "offset 7 applied", "offset 7 checked"]


Record = namedtuple("Record", "topic partition offset timestamp timestamp_type key value")


class OnePartitionLate:
    """A consumer over fixed partition logs whose first poll leaves out one partition's later message, as aiokafka
    does while a partition's earlier messages wait unread; later polls hand out the rest. Raises CancelledError when
    a poll of every partition finds nothing, to end the follower."""

    def __init__(self, logs: dict[TopicPartition, list[Record]], first_poll: list[Record]) -> None:
        self.logs, self.first_poll = logs, first_poll
        self.position_of = dict.fromkeys(logs, 0)

    def assignment(self) -> set[TopicPartition]:
        return set(self.logs)

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: len(self.logs[tp]) for tp in partitions}

    async def position(self, tp: TopicPartition) -> int:
        return self.position_of[tp]

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.position_of[tp] = offset

    async def getmany(self, *partitions: TopicPartition, timeout_ms: int = 0) -> dict[TopicPartition, list[Record]]:
        if self.first_poll:
            handed, self.first_poll = self.first_poll, []
        else:
            handed = [m for tp in partitions or self.logs for m in self.logs[tp][self.position_of[tp] :]]
            if not handed and not partitions:
                raise asyncio.CancelledError
        batches: dict[TopicPartition, list[Record]] = {}
        for m in handed:
            tp = TopicPartition(m.topic, m.partition)
            batches.setdefault(tp, []).append(m)
            self.position_of[tp] = m.offset + 1
        return batches


def test_a_live_follower_applies_in_the_brokers_order_when_a_partitions_older_message_comes_in_a_later_poll() -> None:
    intent_0, intent_1 = (Record("chat.intents", 0, n, 1000 * (n + 1), 1, b"k", f"i{n}".encode()) for n in (0, 1))
    feedback = Record("chat.feedback", 0, 0, 3000, 1, None, b"f0")
    logs = {TopicPartition("chat.intents", 0): [intent_0, intent_1], TopicPartition("chat.feedback", 0): [feedback]}
    applied_values: list[str] = []
    appliers = {
        topic: lambda key, value, at: applied_values.append(value.decode())
        for topic in ("chat.intents", "chat.feedback")
    }
    positions: Positions = {}
    consumer = OnePartitionLate(logs, first_poll=[intent_0, feedback])
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(_follow(consumer, appliers, positions, poll_ms=10))
    assert applied_values == ["i0", "i1", "f0"]
    assert positions == {TopicPartition("chat.intents", 0): 2, TopicPartition("chat.feedback", 0): 1}


def test_a_follower_passes_over_an_intent_keyed_otherwise_than_by_its_name_as_its_consumer_group_refuses_it() -> None:
    added: list[str] = []
    apply = decoding(NewIntent, Settings(), lambda intent, appended: added.append(intent.intent))
    for n, key in enumerate((b"Hotel-Pets", b"Taxi-Pets", None)):
        intent = NewIntent(event_id=f"n-{n}", event_time=datetime.now(UTC), intent="Hotel-Pets", examples=["x"] * 5)
        apply(key, intent.model_dump_json().encode(), None)
    assert added == ["Hotel-Pets"]
