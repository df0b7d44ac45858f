"""A Faust table of JSON documents kept packed, as bytes, for tables with one entry per event.

A table that holds an entry for every event until its label arrives grows to hundreds of thousands of entries.
Kept as Python dicts and lists, each entry is several objects the cyclic garbage collector walks on every full
collection (seconds each on a large table) and several times its JSON size in memory. Packed, an entry is one bytes
object, which the collector skips; the changelog carries the same bytes, with no second encoding.
"""

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import faust
import orjson
from faust.stores import rocksdb

from streamsense.streams.table_store import delete_in_partition

EXPIRY_CHUNK = 500


def pack(entry: dict[str, Any]) -> bytes:
    """``entry`` as JSON bytes of their own size.

    A bytes object from ``orjson.dumps`` keeps the capacity of orjson's write buffer, several times the size of a
    short document (orjson 3.13; tracemalloc shows it, as in the unit test). Held for weeks, one per transaction,
    that was most of a payments worker's memory growth. The copy is one small memcpy.
    """
    return memoryview(orjson.dumps(entry)).tobytes()


class PackedTable:
    """``get``/``set`` of JSON-able dicts over a table of bytes; ``scan`` and ``delete`` for expiry."""

    def __init__(self, app: faust.App, name: str, partitions: int) -> None:
        self.table = app.Table(name, default=None, partitions=partitions, value_type=bytes)

    def get(self, key: str) -> dict[str, Any] | None:
        packed = self.table.get(key)
        return None if packed is None else orjson.loads(packed)

    def has(self, key: str) -> bool:
        """Whether ``key`` has an entry (without unpacking it)."""
        return self.table.get(key) is not None

    def set(self, key: str, entry: dict[str, Any]) -> None:
        """Store ``entry``; its changelog partition is the current event's (see ``route_table_access``)."""
        self.table[key] = pack(entry)

    def delete(self, key: str) -> None:
        """Remove ``key``'s entry inside an event; its tombstone goes to the current event's partition. Also where this
        worker's table has no entry: a RocksDB table may hold a removal whose tombstone a crash kept from the
        changelog, so a replay sends it again. The memory store, rebuilt from the changelog at every start, lacks an
        entry only where the changelog has the removal (and refuses to delete what it lacks)."""
        if isinstance(self.table.data, rocksdb.Store) or self.has(key):
            del self.table[key]

    async def scan(self, chunk: int = 1_000) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Every entry held here, unpacked; yields the event loop every ``chunk`` entries so that a scan of a large
        table does not stall the agents.

        Reads each partition's entries in one pass. The scan used to list the keys (Faust counts them first, a
        second pass) and read each back by key, which, outside an event, looks for the key in every partition's
        database: the expiry took about a twentieth of a worker's samples at 50 transactions/s (``bench/pipeline.py
        --rates 50 --profile``), and ``bench/table_expiry.py`` times both ways of reading.
        A RocksDB iterator reads a snapshot, so entries may change while the scan waits; a dict may not, so the
        memory store's entries are listed first (their values are not copied).
        """
        data = self.table.data
        items = iter(data.items()) if isinstance(data, rocksdb.Store) else iter(list(data.items()))
        while batch := list(itertools.islice(items, chunk)):
            for key, packed in batch:
                yield key, orjson.loads(packed)
            await asyncio.sleep(0)

    async def expire(self, stale: AsyncIterator[tuple[str, int]], chunk: int = EXPIRY_CHUNK) -> int:
        """Remove each ``(key, partition)`` of ``stale`` outside any event (a timer), its tombstone to ``partition``,
        which owns the key; returns how many. Waits for the producer after every ``chunk`` tombstones: a pass that
        queued them all at once held 24,000 in the producer's buffer, and the worker kept the 96 MiB they took
        after they were sent (``streamsense_producer_buffer_messages``)."""
        buffer = self.table.app.producer.buffer
        removed = 0
        async for key, partition in stale:
            delete_in_partition(self.table, key, partition)
            self.table.send_changelog(partition, key, None, value_serializer="raw")
            removed += 1
            if removed % chunk == 0:
                while buffer.size > chunk and buffer.state == "running":
                    await buffer.flush_atmost(buffer.size - chunk)
        return removed
