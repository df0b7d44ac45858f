"""RocksDB table partitions that keep our memory settings when they are opened again.

Faust opens each table partition with ``rocksdict.Rdict(path, options)``. For a database that already exists on
disk, rocksdict takes the default column family's options from the database's OPTIONS file instead, and a block
cache cannot be written there: every partition a worker found on disk (all of them, after its first start) got
RocksDB's default 8 MiB cache, whatever ``table_block_cache_bytes`` said. A soak showed it, with the caches above
the bound the settings promised (``rocksdb.block-cache-capacity``). Naming the default column family with our
options keeps them.
"""

from pathlib import Path

import faust
import rocksdict
from faust.stores import rocksdb
from faust.types import StoreT
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
    """A Faust table whose RocksDB store opens its partitions with ``TableOptions``."""

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
