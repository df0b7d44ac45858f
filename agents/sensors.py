"""Sensors worker: score each reading for anomalies and impending failure; publish alerts, log everything.

Each device's event-time window lives in a Faust table keyed by device, on the partition that owns
the device, and recovers from the changelog after a restart.
"""

import time
from datetime import UTC, datetime

import faust
import torch

from streamsense.cli.sensors import artifact_path
from streamsense.models.sensors.artifact import load
from streamsense.models.sensors.monitor import SensorMonitor
from streamsense.schemas.base import ModelRef
from streamsense.schemas.sensors import SensorAlert, SensorReading
from streamsense.streams.processing import BatchProcessor, Item, Skip, route_table_access
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
    monitor = SensorMonitor(model)
    model_ref = ModelRef(name=f"sensors-{model.name}", version=str(model.version))
    windows = app.Table("sensor-device-windows", default=None, partitions=processor.settings.topic_partitions)
    processor.publish = lambda alert: alert.label != "normal"

    def decide_many(items: list[Item]) -> list[SensorAlert | Skip]:
        now = time.time()
        reasons = [
            model.unusable(r.values, r.operating_regime, r.event_time.timestamp() - now)
            for r in (item.record for item in items)
        ]
        usable = [item for item, reason in zip(items, reasons, strict=True) if reason is None]
        alerts = iter(decide_usable(usable))
        return [next(alerts) if reason is None else Skip(reason) for reason in reasons]

    def decide_usable(items: list[Item]) -> list[SensorAlert]:
        if not items:
            return []
        readings = [item.record for item in items]
        last_event = {item.record.device_id: item.event for item in items}
        known = {}
        for device, event in last_event.items():
            route_table_access(event)
            known[device] = windows.get(device)
        states, verdicts = monitor.process_many({d: s for d, s in known.items() if s}, readings)
        for device, state in states.items():
            route_table_access(last_event[device])
            windows[device] = state
        decided_at = datetime.now(UTC)
        return [
            SensorAlert(
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

    @app.agent(processor.raw_topic(SENSOR_READINGS), name="sensors-score")
    async def score(stream: faust.StreamT) -> None:
        await processor.run_batched(stream, SensorReading, decide_many)

    return monitor
