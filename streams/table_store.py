"""RocksDB table partitions that keep our memory settings when they are opened again.

Faust opens each table partition with ``rocksdict.Rdict(path, options)``. For a database that already exists on
disk, rocksdict takes the default column family's options from the database's OPTIONS file instead, and a block
cache cannot be written there: every partition a worker found on disk (all of them, after its first start) got
RocksDB's default 8 MiB cache, whatever ``table_block_cache_bytes`` said. A soak showed it, with the caches above
the bound the settings promised (``rocksdb.block-cache-capacity``). Naming the default column family with our
options keeps them.
"""

import asyncio
from pathlib import Path
from typing import Any

import faust
import rocksdict
from faust.stores import rocksdb
from faust.types import TP, FutureMessage, StoreT
from yarl import URL


class TableOptions(rocksdb.RocksDBOptions):
    """Faust's RocksDB options, applied to the data's column family too, on every open."""

    def open(self, path: Path, *, read_only: bool = False) -> rocksdb.DB:
        if not self.use_rocksdict:
            return super().open(path, read_only=read_only)
        options = self.as_options()
        access = rocksdict.AccessType.read_write() if self.ttl is None else rocksdict.AccessType.with_ttl(self.ttl)
        db = rocksdict.Rdict(str(path), options=options, column_families={"default": options}, access_type=access)
        db.set_read_options(rocksdict.ReadOptions())
        return db


class Table(faust.Table):
    """A Faust table whose RocksDB store opens its partitions with ``TableOptions``, and which records how far its
    changelog reached once per partition every ``persist_offsets_every_s``, not once per record."""

    persist_offsets_every_s = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unpersisted: dict[TP, int] = {}

    def _on_changelog_sent(self, fut: FutureMessage) -> None:
        """Faust writes each acknowledged changelog record's offset to the partition's database (a RocksDB write
        per record: about 4% of a payments worker's samples with py-spy ``--gil`` on a backlog; with a write every
        50 ms, still 1.5% at half rate). A restart replays the changelog from that offset, so an offset written a
        second late only replays a few records that the database holds already; one written too early would skip
        some, and this never writes one before its record is acknowledged."""
        if self.app.in_transaction:
            super()._on_changelog_sent(fut)
            return
        sent = fut.result()
        if not self._unpersisted:
            asyncio.get_running_loop().call_later(self.persist_offsets_every_s, self._persist_offsets)
        tp = sent.topic_partition
        self._unpersisted[tp] = max(sent.offset, self._unpersisted.get(tp, -1))

    def _persist_offsets(self) -> None:
        store = self.data
        pending, self._unpersisted = self._unpersisted, {}
        for tp, offset in pending.items():
            # a partition revoked meanwhile stays closed: opening its database again would hold it from its new owner
            if not isinstance(store, rocksdb.Store) or tp.partition in store._dbs:
                store.set_persisted_offset(tp, offset)

    def _new_store_by_url(self, url: str | URL) -> StoreT:
        store = super()._new_store_by_url(url)
        if isinstance(store, rocksdb.Store):  # no partition is open yet: they open on first use
            store.rocksdb_options = TableOptions(**store.options, use_rocksdict=store.use_rocksdict)
        return store


def delete_in_partition(table: faust.Table, key: str, partition: int) -> None:
    """Delete ``key`` from the table's local store only (no changelog record), from the database of ``partition``.

    Outside an event, Faust's RocksDB store deletes a key from every partition's database it has open (unless the key
    is in its small index of recent keys): 12 deletes and 11 needless tombstones per key for a 12-partition table
    (``bench/table_expiry.py`` times both).
    """
    store = table.data
    if not isinstance(store, rocksdb.Store):
        del store[key]
    elif (db := store._dbs.get(partition)) is not None:  # none once a rebalance took the partition away
        db.delete(store._encode_key(key))
