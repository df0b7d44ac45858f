"""JSON on the wire: strict decoding of events into schemas, fast encoding of decisions."""

import time
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from streamsense.schemas.base import MAX_ID_LENGTH, Event

ModelT = TypeVar("ModelT", bound=BaseModel)
MAX_REASON_CHARS = 500


class DecodeError(ValueError):
    """An input message that is not a valid event; ``reason`` says why in one line, ``kind`` classifies it."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason[:MAX_REASON_CHARS]


def _describe(error: ValidationError) -> tuple[str, str]:
    issues = error.errors(include_url=False, include_input=False)
    if issues and issues[0]["type"] == "json_invalid":
        return "malformed_json", issues[0]["msg"]
    parts = [f"{'.'.join(str(p) for p in issue['loc']) or '<root>'}: {issue['msg']}" for issue in issues[:5]]
    kinds = {issue["type"] for issue in issues}
    kind = "missing_field" if kinds == {"missing"} else "invalid_field"
    return kind, "; ".join(parts)


LOG_APPEND_TIME = 1
"""Kafka's timestamp type of a message that the broker dated (the topic's ``message.timestamp.type``)."""


def appended_at(timestamp_s: float | None, timestamp_type: int | None) -> float | None:
    """The time the broker appended a message, where the broker dates them (else None: the producer did)."""
    return timestamp_s if timestamp_type == LOG_APPEND_TIME else None


def key_text(key: bytes | None) -> str:
    """A message key as text (a tombstone's key names what it removes)."""
    return (key or b"").decode(errors="replace")


def decode(
    raw: bytes | None,
    schema: type[ModelT],
    max_bytes: int,
    max_ahead_s: float | None = None,
    now: float | None = None,
) -> ModelT:
    """Parse and validate one message value, or raise ``DecodeError`` with a clear reason.

    With ``max_ahead_s``, an event dated further than that after ``now`` (by default this machine's clock; the
    broker's append time where it dates the messages) is refused too: a producer whose clock is wrong would
    otherwise date state in the future (a fraud account's and the worker's day buckets, which keep the last 30
    days before the newest), and every later event would look late."""
    if raw is None or len(raw) == 0:
        raise DecodeError("empty", "message has no value")
    if len(raw) > max_bytes:
        raise DecodeError("oversized", f"message is {len(raw)} bytes, the limit is {max_bytes}")
    try:
        record = schema.model_validate_json(raw)
    except ValidationError as error:
        kind, reason = _describe(error)
        raise DecodeError(kind, reason) from error
    if max_ahead_s is not None and isinstance(record, Event):
        ahead = record.event_time.timestamp() - (time.time() if now is None else now)
        if ahead > max_ahead_s:
            clock = "this worker's clock" if now is None else "the time the broker appended it"
            raise DecodeError(
                "invalid_field",
                f"event_time: {record.event_time.isoformat()} is {ahead:,.0f} s after {clock}, more than"
                f" the {max_ahead_s:,.0f} s allowed (STREAMSENSE_MAX_EVENT_AHEAD_S)",
            )
    return record


def key_mismatch(record: BaseModel, key: bytes | None) -> str | None:
    """Why ``key`` is not the message key ``record`` must have (``Event.KEY_FIELD``), or None where it is."""
    field = getattr(record, "KEY_FIELD", None)
    if field is None:
        return None
    expected: str = getattr(record, field)
    if key == expected.encode():
        return None
    given = "no key" if key is None else f"the key {key_text(key)[:MAX_ID_LENGTH]!r}"
    return f"the message has {given}, not its {field} {expected!r}: events on this topic are keyed by their {field}"


def check_key(record: ModelT, key: bytes | None) -> ModelT:
    """``record``, or ``DecodeError`` where its message key is not its own: a worker owns a key's state only on the
    partition the key picks."""
    if reason := key_mismatch(record, key):
        raise DecodeError("wrong_key", reason)
    return record


def encode(model: BaseModel) -> bytes:
    """Serialise a model to compact JSON bytes (the wire format of every topic), in one pass in pydantic's core."""
    return model.__pydantic_serializer__.to_json(model)
