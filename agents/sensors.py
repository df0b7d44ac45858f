"""Sensors worker: score each reading for anomalies and impending failure; publish alerts, log everything.

Each device's event-time window lives in a Faust table keyed by device, on the partition that owns
the device, and recovers from the changelog after a restart.
"""

import time
from datetime import UTC, datetime

import faust

from streamsense.cli.sensors import artifact_path
from streamsense.models.sensors.artifact import load
from streamsense.models.sensors.monitor import SensorMonitor
from streamsense.schemas.base import ModelRef
from streamsense.schemas.sensors import SensorAlert, SensorReading
from streamsense.streams.processing import BatchProcessor
from streamsense.streams.topics import SENSOR_READINGS


def install(app: faust.App, processor: BatchProcessor) -> SensorMonitor:
    """Declare the sensors table and agent on ``app``; returns the live monitor."""
    path = artifact_path("degradation")
    if not path.exists():
        raise RuntimeError(f"no trained sensor model at {path}: run `streamsense train sensors` first")
    model = load(path)
    monitor = SensorMonitor(model)
    model_ref = ModelRef(name=f"sensors-{model.name}", version=str(model.version))
    windows = app.Table("sensor-device-windows", default=None, partitions=processor.settings.topic_partitions)
    processor.publish = lambda alert: alert.label != "normal"

    def decide(reading: SensorReading, received: float) -> SensorAlert:
        state, verdict = monitor.process(windows.get(reading.device_id), reading)
        windows[reading.device_id] = state
        return SensorAlert(
            **verdict.alert_fields(),
            event_id=reading.event_id,
            event_time=reading.event_time,
            decided_at=datetime.now(UTC),
            key=reading.device_id,
            model=model_ref,
            latency_ms=(time.perf_counter() - received) * 1000,
        )

    @app.agent(processor.input_topic(SENSOR_READINGS), name="sensors-score")
    async def score(stream: faust.StreamT) -> None:
        await processor.run(stream, SensorReading, decide)

    return monitor
