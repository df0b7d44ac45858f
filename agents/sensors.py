"""Sensors worker: score each reading for anomalies and impending failure; publish alerts, log everything.

Each device's event-time window lives in a Faust table keyed by device, on the partition that owns
the device, and recovers from the changelog after a restart. A device silent for longer than ``sensor_idle_s``
starts over (``models/sensors/monitor.py``), and its entry leaves the table once every reading it took is committed.
"""

import time
from datetime import UTC, datetime

import faust
import torch

from streamsense.cli.sensors import artifact_path
from streamsense.models.sensors.artifact import load
from streamsense.models.sensors.monitor import SensorMonitor
from streamsense.models.sensors.replays import judge
from streamsense.schemas.base import ModelRef
from streamsense.schemas.sensors import SensorAlert, SensorReading
from streamsense.streams.packed_table import PackedTable
from streamsense.streams.processing import BatchProcessor, Item, Skip, route_table_access, written_at
from streamsense.streams.topics import SENSOR_READINGS


def missing_artifacts() -> str | None:
    path = artifact_path("degradation")
    return None if path.exists() else f"no trained sensor model at {path}: run `streamsense train sensors` first"


def install(app: faust.App, processor: BatchProcessor) -> SensorMonitor:
    """Declare the sensors table and agent on ``app``; returns the live monitor."""
    missing = missing_artifacts()
    if missing:
        raise RuntimeError(missing)
    torch.set_num_threads(1)  # one worker process per core scales better than intra-op threads
    model = load(artifact_path("degradation"))
    settings = processor.settings
    monitor = SensorMonitor(model, idle_s=settings.sensor_idle_s)
    model_ref = ModelRef(name=f"sensors-{model.name}", version=str(model.version))
    # packed JSON, which is also what the table's JSON changelog and store held before, so either reads the other
    windows = PackedTable(app, "sensor-device-windows", settings.topic_partitions)
    newest: dict[int, float] = {}  # per partition of sensors.readings, the newest event time decided here
    processor.publish = lambda alert: alert.label != "normal"

    def decide_many(items: list[Item]) -> list[SensorAlert | Skip]:
        now = time.time()
        reasons = [
            model.unusable(
                item.record.values,
                item.record.operating_regime,
                item.record.event_time.timestamp() - written_at(item.event, now),
            )
            for item in items
        ]
        usable = [item for item, reason in zip(items, reasons, strict=True) if reason is None]
        alerts = iter(decide_usable(usable))
        return [next(alerts) if reason is None else Skip(reason) for reason in reasons]

    def decide_usable(items: list[Item]) -> list[SensorAlert | Skip]:
        if not items:
            return []
        last_event = {item.record.device_id: item.event for item in items}
        known = {}
        for device, event in last_event.items():
            route_table_access(event)
            known[device] = windows.get(device)
        for item in items:
            partition, event_time = item.event.message.partition, item.record.event_time.timestamp()
            newest[partition] = max(newest.get(partition, event_time), event_time)
        positions = [
            (m.partition, m.offset, app.consumer.committed_offset(m.tp)) for m in (item.event.message for item in items)
        ]
        states, verdicts = judge(monitor, known, [item.record for item in items], positions)
        decided_at = datetime.now(UTC)
        # every alert is built before any state is written: a batch that raises is decided again one reading at a
        # time (streams/processing.py), and a device's state written by the failed pass would be stepped twice
        alerts = [
            Skip(verdict.unusable)
            if verdict.unusable
            else SensorAlert(
                **verdict.alert_fields(),
                event_id=item.record.event_id,
                event_time=item.record.event_time,
                decided_at=decided_at,
                key=item.record.device_id,
                model=model_ref,
                latency_ms=(time.perf_counter() - item.received) * 1000,
            )
            for item, verdict in zip(items, verdicts, strict=True)
        ]
        # a device whose readings were all replays is written again too, for a changelog that lost the write when
        # the worker died
        for device, event in last_event.items():
            route_table_access(event)
            windows.set(device, states[device])
        return alerts

    @app.agent(processor.raw_topic(SENSOR_READINGS), name="sensors-score")
    async def score(stream: faust.StreamT) -> None:
        await processor.run_batched(stream, SensorReading, decide_many)

    @app.timer(interval=settings.sensor_expiry_check_s)
    async def expire_silent_devices() -> None:
        """Drop the devices that no reading can need any more: silent for longer than the idle time before their
        partition's newest reading, less the ``max_event_ahead_s`` by which that reading may be dated ahead of the
        clock (a reading the device takes now is dated earlier), and every reading they took committed, so none of
        them comes again."""

        def stale(state: dict, committed: int) -> bool:
            if state["o"] >= committed or state["p"] not in newest:
                return False
            return monitor.silent(state, newest[state["p"]] - settings.max_event_ahead_s)

        await processor.expire_settled(windows, SENSOR_READINGS, stale)

    return monitor
