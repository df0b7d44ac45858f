"""What a worker's RocksDB tables hold in memory, as RocksDB itself counts it.

Each table partition is a RocksDB database with its own memtables and block cache, bounded by the table settings
(``table_write_buffer_bytes``, ``table_block_cache_bytes``); they fill as the worker writes and reads, so the
worker's resident memory rises for a while under a steady load. Reported beside the resident size, they tell that
bounded filling apart from a leak in the rest of the process.
"""

from collections.abc import Iterable

from faust.types import CollectionT

PROPERTIES = {
    "memtables": "rocksdb.cur-size-all-mem-tables",
    "block_cache": "rocksdb.block-cache-usage",
    "table_readers": "rocksdb.estimate-table-readers-mem",
}
"""Our name for each kind of memory, and the RocksDB property that counts it per database."""


def table_memory(tables: Iterable[CollectionT]) -> dict[str, int]:
    """Bytes of each kind over every open database of ``tables``; zeros for tables kept in memory."""
    totals = dict.fromkeys(PROPERTIES, 0)
    for table in tables:
        # Faust's RocksDB store opens one database per partition (a private attribute; the memory store has none)
        for db in getattr(table.data, "_dbs", {}).values():
            for kind, prop in PROPERTIES.items():
                totals[kind] += db.property_int_value(prop) or 0
    return totals
