"""The worker's Faust app keeps its tables in RocksDB under a data dir of its own, with bounded memory."""

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace

import faust
from faust.stores.rocksdb import Store
from faust.types import TP

from streamsense.settings import Settings
from streamsense.streams.app import StreamInbound, create_app
from streamsense.streams.processing import route_table_access
from streamsense.streams.table_memory import table_memory
from streamsense.streams.table_store import delete_in_partition
from streamsense.streams.topics import STREAMS


class _Event:
    """Stands in for the current event, which tells a RocksDB table which partition's database to use."""

    def __init__(self, partition: int) -> None:
        self.message = SimpleNamespace(partition=partition)


def _in_partition(partition: int) -> _Event:
    event = _Event(partition)
    route_table_access(event)
    return event


def test_tables_live_in_rocksdb_in_the_named_workers_data_dir_with_small_memtables_and_caches(tmp_path: Path) -> None:
    async def table_store() -> Store:
        settings = Settings(state_dir=tmp_path, worker_name="w1", table_write_buffer_bytes=1 << 20)
        app = create_app(STREAMS["payments"], settings)
        return app.Table("entries", default=None, partitions=2).data

    store = asyncio.run(table_store())

    assert isinstance(store, Store)
    assert Path(app_datadir := store.app.conf.datadir).is_relative_to(tmp_path / "faust")
    assert Path(app_datadir).parts[-2:] == (STREAMS["payments"].app_id, "w1")
    assert store.rocksdb_options.write_buffer_size == 1 << 20
    assert store.rocksdb_options.block_cache_size == Settings().table_block_cache_bytes
    assert store.rocksdb_options.max_write_buffer_number == 2


def test_workers_on_one_host_get_data_dirs_of_their_own_by_port_unless_named(tmp_path: Path) -> None:
    async def datadirs() -> list[str]:
        settings = Settings(state_dir=tmp_path)
        return [str(create_app(STREAMS["sensors"], settings, port).conf.datadir) for port in (7001, 7002)]

    first, second = asyncio.run(datadirs())
    assert first != second and first.endswith("port-7001")


def test_a_table_written_in_one_partition_reads_back_after_a_restart_from_disk(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, worker_name="w1")

    async def write() -> None:
        store = create_app(STREAMS["payments"], settings).Table("entries", default=None, partitions=2).data
        event = _in_partition(1)
        store["tx-1"] = {"score": 0.25}
        store.set_persisted_offset(faust.types.TP("entries-changelog", 1), 41)
        assert event is not None  # the current event is a weak reference
        for db in store._dbs.values():
            db.close()

    async def read() -> tuple[dict | None, dict | None, int | None]:
        store = create_app(STREAMS["payments"], settings).Table("entries", default=None, partitions=2).data
        event = _in_partition(1)
        in_partition = store.get("tx-1")
        other = _in_partition(0)
        elsewhere = store.get("tx-1")
        assert event is not None and other is not None  # the current event is a weak reference
        return in_partition, elsewhere, store.persisted_offset(faust.types.TP("entries-changelog", 1))

    asyncio.run(write())
    in_partition, elsewhere, offset = asyncio.run(read())

    assert in_partition == {"score": 0.25}
    assert elsewhere is None  # each partition is its own database: reads must name the owning partition
    assert offset == 41


def test_table_memory_counts_what_the_rocksdb_tables_hold_and_nothing_for_memory_tables(tmp_path: Path) -> None:
    async def memory() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        rocks = create_app(STREAMS["payments"], Settings(state_dir=tmp_path, worker_name="w1"))
        table = rocks.Table("entries", default=None, partitions=2)
        empty = table_memory([table])
        event = _in_partition(1)
        for i in range(1_000):
            table.data[f"tx-{i}"] = {"score": i / 1_000, "reasons": ["amount"] * 10}
        assert event is not None  # the current event is a weak reference
        written = table_memory([table])
        in_memory = create_app(STREAMS["sensors"], Settings(state_dir=tmp_path, table_store="memory"))
        table = in_memory.Table("entries", default=None, partitions=2)
        event = _in_partition(1)
        table.data["tx-1"] = {"score": 0.5}
        return empty, written, table_memory([table])

    empty, written, in_memory = asyncio.run(memory())

    assert written["memtables"] > empty["memtables"] + 50_000  # a thousand entries of about 100 bytes
    assert set(written) == {"memtables", "block_cache", "table_readers"}
    assert in_memory == {"memtables": 0, "block_cache": 0, "table_readers": 0}


def test_a_table_partition_opened_again_from_disk_keeps_the_configured_block_cache(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, worker_name="w1", table_block_cache_bytes=1 << 20)

    async def capacity() -> int:
        store = create_app(STREAMS["payments"], settings).Table("entries", default=None, partitions=2).data
        event = _in_partition(1)
        store["tx-1"] = {"score": 0.25}
        assert event is not None  # the current event is a weak reference
        (db,) = store._dbs.values()
        size = db.property_int_value("rocksdb.block-cache-capacity")
        db.close()
        return size

    first = asyncio.run(capacity())
    again = asyncio.run(capacity())  # the database exists now: rocksdict would take its options from disk

    assert first == again == 1 << 20


def test_delete_in_partition_removes_the_key_from_that_partitions_database_only(tmp_path: Path) -> None:
    async def delete() -> tuple[bytes | None, bytes | None]:
        table = create_app(STREAMS["payments"], Settings(state_dir=tmp_path)).Table(
            "entries", default=None, partitions=2, value_type=bytes
        )
        store = table.data
        for partition in (0, 1):
            event = _in_partition(partition)
            store["tx-1"] = b"entry"
            assert event is not None  # the current event is a weak reference
        delete_in_partition(table, "tx-1", 1)
        key = store._encode_key("tx-1")
        return store._db_for_partition(0).get(key), store._db_for_partition(1).get(key)

    assert asyncio.run(delete()) == (b"entry", None)


def test_delete_in_partition_does_not_open_a_partition_this_worker_does_not_hold(tmp_path: Path) -> None:
    async def delete() -> tuple[bytes | None, set[int]]:
        table = create_app(STREAMS["payments"], Settings(state_dir=tmp_path)).Table(
            "entries", default=None, partitions=2, value_type=bytes
        )
        event = _in_partition(0)
        table.data["tx-1"] = b"entry"
        assert event is not None  # the current event is a weak reference
        delete_in_partition(table, "tx-1", 1)
        return table.data._db_for_partition(0).get(table.data._encode_key("tx-1")), set(table.data._dbs)

    assert asyncio.run(delete()) == (b"entry", {0})


def _sent(partition: int, offset: int) -> SimpleNamespace:
    """Stands in for an acknowledged changelog record (Faust's ``FutureMessage``)."""
    return SimpleNamespace(result=lambda: SimpleNamespace(topic_partition=TP("t-changelog", partition), offset=offset))


def test_changelog_offsets_are_written_once_per_partition_after_a_short_delay_and_never_reopen_a_partition(
    tmp_path: Path,
) -> None:
    async def persisted() -> tuple[int | None, int | None, set[int]]:
        table = create_app(STREAMS["payments"], Settings(state_dir=tmp_path)).Table("t", default=None, partitions=2)
        table.persist_offsets_every_s = 0.05
        event = _in_partition(0)
        table.data["tx-1"] = {"score": 0.5}
        assert event is not None  # the current event is a weak reference
        for offset in (3, 7, 5):
            table._on_changelog_sent(_sent(0, offset))
        table._on_changelog_sent(_sent(1, 9))  # partition 1 was never opened here
        before = table.data.persisted_offset(TP("t-changelog", 0))
        await asyncio.sleep(0.1)
        return before, table.data.persisted_offset(TP("t-changelog", 0)), set(table.data._dbs)

    before, after, open_partitions = asyncio.run(persisted())

    assert before is None
    assert after == 7
    assert open_partitions == {0}


def test_the_app_starts_without_fausts_monitor_sensor_but_keeps_the_stream_times_its_consumer_checks(
    tmp_path: Path,
) -> None:
    async def sensors() -> tuple[faust.App, set]:
        app = create_app(STREAMS["sensors"], Settings(state_dir=tmp_path, stream_stall_log_s=42.0))
        app.on_init_dependencies()
        return app, set(app.sensors)

    app, installed = asyncio.run(sensors())
    tp = TP("sensor.readings", 3)
    app.sensors.on_stream_event_in(tp, 17, None, None)
    taken = app.monitor.stream_inbound_time.get(tp)
    app.sensors.on_rebalance_start(app)

    assert app.monitor not in installed
    assert [type(sensor) for sensor in installed] == [StreamInbound]
    assert taken is not None and abs(taken - time.monotonic()) < 5  # Faust's consumer reads them by this clock
    assert app.monitor.stream_inbound_time == {}  # a partition may move: its time restarts with its next event
    assert app.conf.stream_processing_timeout == 42.0
