"""Group commit of bulk requests: who shares a request, and who gets which answer."""

import asyncio

import pytest

from streamsense.streams.bulk_coalescer import BulkCoalescer


class RecordingNode:
    """Answers each body with one item per line pair, naming the line; holds each request until released."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.release = asyncio.Event()
        self.fail_next: Exception | None = None

    async def send(self, body: bytes) -> list[dict]:
        self.bodies.append(body)
        await self.release.wait()
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        return [{"index": {"_id": line.decode(), "status": 201}} for line in body.split(b"\n")[:-1:2]]


def body(*ids: str) -> bytes:
    return b"".join(f"{i}\n{{}}\n".encode() for i in ids)


def ids(items: list[dict]) -> list[str]:
    return [item["index"]["_id"] for item in items]


def test_writes_made_while_a_request_is_in_flight_share_the_next_and_each_gets_its_own_items() -> None:
    async def scenario() -> None:
        node = RecordingNode()
        bulks = BulkCoalescer(node.send)
        first = asyncio.ensure_future(bulks.bulk(body("a"), 1))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(bulks.bulk(body("b", "c"), 2))
        third = asyncio.ensure_future(bulks.bulk(body("d"), 1))
        await asyncio.sleep(0)
        assert bulks.waiting == 4
        node.release.set()

        assert [ids(await first), ids(await second), ids(await third)] == [["a"], ["b", "c"], ["d"]]
        assert node.bodies == [body("a"), body("b", "c", "d")]
        assert bulks.waiting == 0

    asyncio.run(scenario())


def test_a_request_takes_queued_writes_up_to_the_size_limit_but_never_splits_one() -> None:
    async def scenario() -> None:
        node = RecordingNode()
        node.release.set()
        bulks = BulkCoalescer(node.send, max_bytes=len(body("a", "b")))
        writes = [bulks.bulk(body(*names), len(names)) for names in (["a"], ["b"], ["c", "d", "e"], ["f"])]

        results = await asyncio.gather(*writes)

        assert [ids(r) for r in results] == [["a"], ["b"], ["c", "d", "e"], ["f"]]
        assert node.bodies == [body("a", "b"), body("c", "d", "e"), body("f")]

    asyncio.run(scenario())


def test_a_failed_request_fails_each_of_its_writes_and_the_next_writes_still_go() -> None:
    async def scenario() -> None:
        node = RecordingNode()
        node.fail_next = ConnectionError("node gone")
        bulks = BulkCoalescer(node.send)
        first = asyncio.ensure_future(bulks.bulk(body("a"), 1))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(bulks.bulk(body("b"), 1))
        await asyncio.sleep(0)
        node.release.set()

        with pytest.raises(ConnectionError, match="node gone"):
            await first
        assert ids(await second) == ["b"]
        assert bulks.waiting == 0

    asyncio.run(scenario())


def test_a_write_cancelled_while_it_waits_is_left_out_of_the_request() -> None:
    async def scenario() -> None:
        node = RecordingNode()
        bulks = BulkCoalescer(node.send)
        first = asyncio.ensure_future(bulks.bulk(body("a"), 1))
        await asyncio.sleep(0)
        gone = asyncio.ensure_future(bulks.bulk(body("b"), 1))
        kept = asyncio.ensure_future(bulks.bulk(body("c"), 1))
        await asyncio.sleep(0)
        gone.cancel()
        node.release.set()

        assert ids(await first) == ["a"]
        assert ids(await kept) == ["c"]
        assert node.bodies == [body("a"), body("c")]
        assert bulks.waiting == 0

    asyncio.run(scenario())
