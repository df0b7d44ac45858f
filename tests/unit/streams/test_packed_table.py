"""PackedTable keeps one bytes object per entry and unpacks it on read."""

import asyncio
import gc
import tracemalloc
from collections.abc import AsyncIterator

import faust
import orjson

from streamsense.streams.packed_table import PackedTable, pack


def _table() -> PackedTable:
    return PackedTable(faust.App("packed-test", store="memory://", autodiscover=False), "entries", partitions=2)


def test_entries_are_held_as_bytes_the_collector_does_not_track() -> None:
    table = _table()
    table.table.data["tx-1"] = orjson.dumps({"features": {"amount": 1.5}, "reasons": [["amount", 1.5, 0.2]]})

    assert not gc.is_tracked(table.table.data["tx-1"])
    assert table.get("tx-1") == {"features": {"amount": 1.5}, "reasons": [["amount", 1.5, 0.2]]}
    assert table.has("tx-1") and not table.has("tx-2") and table.get("tx-2") is None


def test_scan_unpacks_every_entry_and_lets_other_tasks_run_between_chunks() -> None:
    table = _table()
    for i in range(5):
        table.table.data[f"tx-{i}"] = orjson.dumps({"at": float(i)})
    ticks: list[int] = []

    async def scan() -> list[tuple[str, dict]]:
        async def other_task() -> None:
            while True:
                ticks.append(len(ticks))
                await asyncio.sleep(0)

        ticker = asyncio.ensure_future(other_task())
        seen = [item async for item in table.scan(chunk=2)]
        ticker.cancel()
        return seen

    seen = asyncio.run(scan())

    assert seen == [(f"tx-{i}", {"at": float(i)}) for i in range(5)]
    assert len(ticks) >= 2


def test_a_packed_entry_takes_about_its_own_size_in_memory() -> None:
    entry = {"account": "C011715", "summary": [0.0] * 20, "labelled": False, "at": 1795953100.77, "p": 11}
    tracemalloc.start()
    try:
        packed = [pack(entry) for _ in range(1_000)]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert orjson.loads(packed[0]) == entry
    assert held / len(packed) < 2 * len(packed[0]) + 100


class RecordingProducer:
    """Stands in for Faust's producer and its buffer: keeps what is handed over; a flush sends what it is asked to."""

    state = "running"

    def __init__(self) -> None:
        self.buffer = self
        self.handed: list[tuple[int | None, object, object]] = []
        self.size = 0
        self.peak = 0

    def send_soon(self, fut: faust.types.tuples.FutureMessage) -> None:
        self.handed.append((fut.message.partition, fut.message.key, fut.message.value))
        self.size += 1
        self.peak = max(self.peak, self.size)

    async def flush_atmost(self, most: int) -> int:
        self.size -= most
        return most


def test_expire_deletes_each_entry_with_a_tombstone_to_its_partition_and_waits_for_the_producer_every_chunk() -> None:
    table = _table()
    producer = RecordingProducer()
    table.table.app.producer = producer
    for i in range(25):
        table.table.data[f"tx-{i}"] = orjson.dumps({"at": float(i)})

    async def stale() -> AsyncIterator[tuple[str, int]]:
        for i in range(20):
            yield f"tx-{i}", i % 2

    removed = asyncio.run(table.expire(stale(), chunk=4))

    assert removed == 20
    assert sorted(table.table.data.keys()) == sorted(f"tx-{i}" for i in range(20, 25))
    assert producer.handed == [(i % 2, orjson.dumps(f"tx-{i}"), None) for i in range(20)]
    assert producer.peak <= 8
