"""The broadcast follower on the real broker: every message of several topics and partitions, once, in the order the
broker wrote them, also across a restart from the positions it kept."""

import asyncio
import random
import time
import uuid

import pytest
from confluent_kafka import Producer

from streamsense.infra.local.launcher import LocalInfra
from streamsense.settings import Settings
from streamsense.streams.admin import ensure_topics
from streamsense.streams.connections import kafka_config
from streamsense.streams.follower import Positions, follow
from streamsense.streams.topics import BROADCAST_INPUTS, CHAT_FEEDBACK

pytestmark = pytest.mark.integration


def test_the_follower_applies_every_message_once_in_the_order_the_broker_wrote_them_and_resumes_where_it_stopped(
    infra: LocalInfra, settings: Settings
) -> None:
    run = uuid.uuid4().hex[:8]
    topics = [f"streamsense-test-{run}-a", f"streamsense-test-{run}-b"]
    ensure_topics(settings, topics, config=BROADCAST_INPUTS[CHAT_FEEDBACK])
    producer = Producer(kafka_config(settings))
    rng = random.Random(0)
    written: list[bytes] = []

    def write(count: int) -> None:
        """Messages on random topics and partitions, one at a time, so that their append times are in order."""
        for _ in range(count):
            value = f"{len(written)}".encode()
            producer.produce(rng.choice(topics), value=value, partition=rng.randrange(settings.topic_partitions))
            assert producer.flush(30) == 0
            written.append(value)
            time.sleep(0.003)

    applied: list[bytes] = []
    appliers = {topic: lambda key, value, appended: applied.append(value) for topic in topics}

    async def following(positions: Positions, until: int, write_meanwhile: int = 0) -> None:
        task = asyncio.create_task(follow(settings, appliers, positions, poll_ms=200))
        if write_meanwhile:
            await asyncio.to_thread(write, write_meanwhile)
        deadline = time.monotonic() + 60
        while len(applied) < until and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # nothing more may come
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    write(40)
    positions: Positions = {}
    asyncio.run(following(positions, 60, write_meanwhile=20))  # read up to the end, then follow the new ones
    assert applied == written
    write(10)  # while no follower runs
    asyncio.run(following(positions, 70))
    assert applied == written
