"""Fields every event and decision carries, and the rules they share."""

from datetime import UTC, datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_ID_LENGTH = 128


def _aware_utc(value: datetime) -> datetime:
    """Event time must be unambiguous: naive timestamps are rejected, aware ones normalised to UTC."""
    if value.tzinfo is None:
        raise ValueError("event_time needs a timezone (ISO 8601 with offset or 'Z')")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC, year 9999 west of it: pydantic passes on only ValueError
        raise ValueError("the time is outside years 1 to 9999 once in UTC") from None


UtcDatetime = Annotated[datetime, AfterValidator(_aware_utc)]
Identifier = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class Event(BaseModel):
    """Base of every event on an input topic; extra keys are refused so that a producer's typo is not silently lost."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    SCHEMA_VERSION: ClassVar[int] = 1
    KEY_FIELD: ClassVar[str | None] = None
    """The field whose value must be the message key: the per-key state (an account's features, a device's window,
    a conversation's dialogue) lives on the partition the key picks, so an event keyed otherwise would split it.
    None where every worker reads the whole topic and the key places nothing."""

    event_id: Identifier
    event_time: UtcDatetime
    schema_version: int = Field(default=1, strict=True, ge=1, le=1)


class InternalMessage(BaseModel):
    """Base of a message one worker hands another (never a producer's event): unknown fields are ignored, at any depth
    where ``streams.codec.decode`` reads it, the events it carries included.

    In a rolling upgrade a newer worker's message can carry a field an older worker does not know: a field added to
    the message, or to the event inside it, which the newer worker writes even at its default. Refused, it would
    dead-letter every such message, and lose its transaction or label. What is ignored was validated by the worker
    that sent it; a field added must have a default, so that a newer worker reads an older one's messages too."""

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class Reason(BaseModel):
    """One contribution to a score: which input, its value, and how much it pushed the score."""

    model_config = ConfigDict(frozen=True)

    feature: str
    value: float | str | None
    contribution: float


class ModelRef(BaseModel):
    """The model that made a decision, so a decision can be traced to an artifact."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str


class Decision(BaseModel):
    """Base of every decision: what was decided about which event, by which model, how fast. A score that is not a
    finite number is refused here (JSON would carry it as null, which the decision's own schema refuses)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    SCHEMA_VERSION: ClassVar[int] = 1

    event_id: Identifier
    event_time: UtcDatetime
    decided_at: UtcDatetime
    schema_version: int = 1
    stream: str
    key: str
    model: ModelRef
    score: float
    label: str
    reasons: list[Reason] = Field(default_factory=list)
    features: dict[str, float | str | None] = Field(default_factory=dict)
    latency_ms: float = Field(ge=0, description="time from the worker receiving the event to the decision being built")
