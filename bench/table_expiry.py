"""The expiry pass's table work per entry: reading every entry, and deleting a stale one, on a RocksDB table.

The payments worker's expiry timer reads every entry of its two tables keyed by transaction and deletes the stale
ones; the sensors worker's reads every device's window (``--shape sensors``: a warmed device's state from the
trained sensor model, which must be in the artifact cache). This compares, on a 12-partition RocksDB table filled
with packed entries (no Kafka needed: the partitions are opened directly and the changelog is not written), Faust's
generic way (list the keys, read each back by key; delete with ``del``, which outside an event looks in every
partition) with ours (``PackedTable.scan``, one pass per partition; ``delete_in_partition``, the owning partition
only).

    python bench/table_expiry.py [--entries 30000] [--shape payments|sensors]

Prints one JSON object: microseconds per entry for each way, and the size of an entry.
"""

import argparse
import asyncio
import itertools
import json
import tempfile
import time
from collections.abc import Callable
from typing import Any

import faust
from faust.types import TP

from streamsense.streams.packed_table import PackedTable, pack
from streamsense.streams.table_store import delete_in_partition

PARTITIONS = 12


Shape = Callable[[int, int], dict[str, Any]]


def transaction_entry(n: int, partition: int) -> dict[str, Any]:
    """An entry shaped like a scored transaction's, of about its size."""
    return {
        "account": f"A{n % 5000:06d}",
        "features": {f"feature_{i}": n * 0.001 + i for i in range(33)},
        "score": 0.12,
        "threshold": 0.5,
        "is_fraud": False,
        "reasons": [[f"feature_{i}", str(i), 0.01 * i] for i in range(5)],
        "transaction": {"event_id": f"tx-{n:08d}", "amount": 12.5, "terminal_id": f"T{n % 10000:06d}"},
        "labelled": False,
        "at": time.time(),
        "p": partition,
        "o": n,
    }


def sensor_entries() -> Shape:
    """Entries shaped like a warmed device's window, as the sensors worker keeps them."""
    from streamsense.cli.sensors import artifact_path
    from streamsense.datasets.degradation import simulate
    from streamsense.models.sensors.artifact import load
    from streamsense.models.sensors.monitor import SensorMonitor

    model = load(artifact_path("degradation"))
    monitor = SensorMonitor(model)
    state = None
    for reading in itertools.islice(simulate(1, seed=0, days=0.1).readings(), model.seq_len + model.lateness):
        state, _ = monitor.process(state, reading)
    return lambda n, partition: {**state, "p": partition, "o": n}


async def measure(entries: int, datadir: str, entry: Shape) -> dict[str, Any]:
    app = faust.App("table-expiry-bench", store="rocksdb://", datadir=datadir, autodiscover=False)
    table = PackedTable(app, "entries", PARTITIONS)
    store = table.table.data
    topic = table.table.changelog_topic_name
    app.assignor.assigned_actives = lambda: {TP(topic, p) for p in range(PARTITIONS)}
    keys = [f"tx-{n:08d}" for n in range(entries)]
    for n, key in enumerate(keys):
        store._db_for_partition(n % PARTITIONS).put(store._encode_key(key), pack(entry(n, n % PARTITIONS)))

    began = time.perf_counter()
    generic = sum(1 for key in list(store.keys()) if table.get(key) is not None)
    generic_scan = time.perf_counter() - began
    began = time.perf_counter()
    ours = sum([1 async for _ in table.scan()])
    our_scan = time.perf_counter() - began
    assert generic == ours == entries

    half = entries // 2
    began = time.perf_counter()
    for key in keys[:half]:
        del store[key]
    generic_delete = time.perf_counter() - began
    began = time.perf_counter()
    for n in range(half, entries):
        delete_in_partition(table.table, keys[n], n % PARTITIONS)
    our_delete = time.perf_counter() - began
    assert next(iter(store.keys()), None) is None
    return {
        "entries": entries,
        "entry_bytes": len(pack(entry(0, 0))),
        "partitions": PARTITIONS,
        "scan_us_per_entry": {
            "keys_then_get": generic_scan / entries * 1e6,
            "packed_table_scan": our_scan / entries * 1e6,
        },
        "delete_us_per_entry": {
            "del_outside_an_event": generic_delete / half * 1e6,
            "delete_in_partition": our_delete / (entries - half) * 1e6,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=30_000)
    parser.add_argument("--shape", choices=["payments", "sensors"], default="payments")
    args = parser.parse_args()
    entry = transaction_entry if args.shape == "payments" else sensor_entries()
    with tempfile.TemporaryDirectory() as datadir:
        result = {"shape": args.shape} | asyncio.run(measure(args.entries, datadir, entry))
    rounded = {k: {m: round(v, 1) for m, v in d.items()} if isinstance(d, dict) else d for k, d in result.items()}
    print(json.dumps(rounded, indent=2))


if __name__ == "__main__":
    main()
