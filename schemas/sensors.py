"""Sensor readings and the sensor alert decision."""

from typing import Literal

from pydantic import Field

from streamsense.schemas.base import Decision, Event, Identifier


class SensorReading(Event):
    """One reading of several channels from one device; keyed by ``device_id`` on ``sensor.readings``."""

    device_id: Identifier
    values: dict[str, float] = Field(min_length=1, max_length=64, description="channel name -> measured value")
    operating_regime: int | None = Field(default=None, ge=0, le=64)


class SensorAlert(Decision):
    """``label`` is ``normal``, ``anomaly`` or ``failure_warning``; ``score`` is the anomaly score."""

    stream: Literal["sensors"] = "sensors"
    label: Literal["normal", "anomaly", "failure_warning"]
    failure_probability: float | None = Field(default=None, ge=0, le=1)
    minutes_to_failure: float | None = None
