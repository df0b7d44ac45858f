"""How long a new worker takes to rebuild its tables from the changelogs, and how much it reads.

A worker that finds no tables of its own on disk (a new host, a new name, a lost volume) replays every changelog
partition it is assigned before it decides anything. The script counts what the stream's changelogs hold (records
and value bytes, read with confluent-kafka) and the events its input topics hold, starts one worker under a fresh
name, times it until ``/ready`` answers 200 (polled every 2 s), and reports the records and bytes per second of the
replay. The fresh worker's tables are deleted afterwards.

    python bench/recovery.py                   # payments, on whatever the local broker holds
    python bench/recovery.py --stream sensors

Prints one JSON object. Needs the trained artifacts (``make train``); starts Kafka and Elasticsearch if needed.
"""

import argparse
import json
import shutil
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from streamsense.infra.local.launcher import LocalInfra
from streamsense.settings import Settings, get_settings
from streamsense.streams.app import worker_datadir
from streamsense.streams.connections import kafka_config
from streamsense.streams.readiness import answers_ready
from streamsense.streams.topics import STREAMS
from streamsense.streams.worker import free_port, spawn_worker, worker_environment


def changelog_contents(settings: Settings, app_id: str) -> dict[str, dict[str, float]]:
    """Records (tombstones included) and value megabytes in each of the app's changelog topics."""
    config = kafka_config(settings)
    topics = AdminClient(config).list_topics(timeout=30).topics
    out = {}
    for name in sorted(t for t in topics if t.startswith(f"{app_id}-") and t.endswith("-changelog")):
        consumer = Consumer(
            {**config, "group.id": f"bench-recovery-{uuid.uuid4()}", "enable.partition.eof": True}
            | {"enable.auto.commit": False, "auto.offset.reset": "earliest"}
        )
        partitions = [TopicPartition(name, p, -2) for p in topics[name].partitions]
        consumer.assign(partitions)
        ended, records, size = 0, 0, 0
        while ended < len(partitions):
            for message in consumer.consume(10_000, 1.0):
                if message.error():
                    ended += 1
                    continue
                records += 1
                size += len(message.value() or b"")
        consumer.close()
        out[name] = {"records": records, "value_mb": round(size / 1e6, 1)}
    return out


def input_events(settings: Settings, topics: tuple[str, ...]) -> int:
    """Events the stream's input topics hold (end minus start offsets): what the changelogs compare with."""
    consumer = Consumer({**kafka_config(settings), "group.id": f"bench-recovery-{uuid.uuid4()}"})
    try:
        metadata = consumer.list_topics(timeout=30).topics
        total = 0
        for topic in topics:
            for partition in metadata[topic].partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
                total += high - low
        return total
    finally:
        consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stream", default="payments", choices=sorted(STREAMS))
    parser.add_argument("--timeout-s", type=float, default=1800.0)
    args = parser.parse_args()
    settings = get_settings()
    LocalInfra(settings).up()
    spec = STREAMS[args.stream]
    start = time.monotonic()
    contents = changelog_contents(settings, spec.app_id)
    count_s = time.monotonic() - start
    events = input_events(settings, spec.inputs)
    name = f"recovery-{uuid.uuid4().hex[:8]}"
    port = free_port()
    logs = settings.state_dir / "bench-logs" / f"recovery-{args.stream}.log"
    worker = spawn_worker(args.stream, settings, port, logs, name=name)
    start = time.monotonic()
    try:
        while not answers_ready(port) and time.monotonic() - start < args.timeout_s and worker.poll() is None:
            time.sleep(2)
        ready_s = time.monotonic() - start if answers_ready(port) else None
    finally:
        worker.terminate()
        worker.wait(60)
        state_dir = Path(worker_environment(settings)["STREAMSENSE_STATE_DIR"])
        shutil.rmtree(worker_datadir(state_dir, spec, name), ignore_errors=True)
    records = sum(c["records"] for c in contents.values())
    megabytes = sum(c["value_mb"] for c in contents.values())
    report = {
        "stream": args.stream,
        "changelogs": contents,
        "records": records,
        "input_events": events,
        "records_per_input_event": round(records / events, 3) if events else None,
        "value_mb": round(megabytes, 1),
        "counting_s_confluent_kafka": round(count_s, 1),
        "ready_s": round(ready_s, 1) if ready_s is not None else None,
        "records_per_s": round(records / ready_s) if ready_s else None,
        "mb_per_s": round(megabytes / ready_s, 1) if ready_s else None,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
