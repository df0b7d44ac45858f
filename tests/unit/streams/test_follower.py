import asyncio

from aiokafka import TopicPartition

from streamsense.streams.follower import Positions, applied


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
