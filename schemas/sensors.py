"""Sensor readings and the sensor alert decision."""

from typing import Annotated, Literal

from pydantic import Field, field_validator

from streamsense.schemas.base import Decision, Event, Identifier

Measured = Annotated[float, Field(strict=True)]
"""A number: ``true`` or ``"12.5"`` is a producer's mistake, not a measurement (both were read as numbers)."""


class SensorReading(Event):
    """One reading of several channels from one device; keyed by ``device_id`` on ``sensor.readings``."""

    KEY_FIELD = "device_id"
    device_id: Identifier
    values: dict[str, Measured | None] = Field(
        min_length=1,
        max_length=64,
        description="channel name -> measured value; null for a channel not measured this time, as if left out",
    )
    operating_regime: int | None = Field(default=None, strict=True, ge=0, le=64)

    @field_validator("values")
    @classmethod
    def _measured(cls, values: dict[str, float | None]) -> dict[str, float | None]:
        """A channel given as null is one the reading lacks (filled in for a while, as a missing one); until stop
        36 a single null refused the whole reading."""
        measured = {channel: value for channel, value in values.items() if value is not None}
        if not measured:
            raise ValueError("no channel holds a value")
        return measured


class SensorAlert(Decision):
    """``label`` is ``normal``, ``anomaly`` or ``failure_warning``; ``score`` is the anomaly score."""

    stream: Literal["sensors"] = "sensors"
    label: Literal["normal", "anomaly", "failure_warning"]
    failure_probability: float | None = Field(default=None, ge=0, le=1)
    minutes_to_failure: float | None = None
