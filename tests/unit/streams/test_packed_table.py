"""PackedTable keeps one bytes object per entry and unpacks it on read."""

import asyncio
import gc
import tracemalloc

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
