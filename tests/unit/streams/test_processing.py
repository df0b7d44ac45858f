import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence

import pytest

from streamsense.streams.processing import consume


class FakeStream:
    """A stream of numbered events that records the order of acks; ``pause_after`` events arrive in a later fetch."""

    def __init__(self, count: int, pause_after: int | None = None) -> None:
        self.count = count
        self.pause_after = pause_after
        self.acked: list[int] = []

    def noack(self) -> "FakeStream":
        return self

    async def events(self) -> AsyncIterator[int]:
        for event in range(self.count):
            if event == self.pause_after:
                await asyncio.sleep(0.1)
            yield event
            await asyncio.sleep(0)  # like Faust's iteration, which may let other tasks run between events
        await asyncio.Event().wait()

    async def ack(self, event: int) -> None:
        self.acked.append(event)


def _run(stream: FakeStream, handle, in_flight: int, until, batch_size: int = 3, within_s: float = 0.01) -> None:
    async def main() -> None:
        agent = asyncio.ensure_future(consume(stream, handle, batch_size, within_s, in_flight))
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


def test_a_failed_confirmation_acks_nothing_after_it_and_ends_the_agent_with_its_error():
    stream = FakeStream(9)

    async def handle(events: Sequence[int]) -> Awaitable[None]:
        async def confirm() -> None:
            if events[0] == 3:
                raise RuntimeError("elasticsearch said no")

        return confirm()

    async def main() -> None:
        agent = asyncio.ensure_future(consume(stream, handle, 3, 0.01, 2))
        with pytest.raises(RuntimeError, match="elasticsearch said no"):
            await asyncio.wait_for(agent, 5)

    asyncio.run(main())
    assert stream.acked == [0, 1, 2]
