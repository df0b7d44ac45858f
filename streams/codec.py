"""JSON on the wire: strict decoding of events into schemas, fast encoding of decisions."""

import json
import time
from collections.abc import Callable
from functools import cache
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from streamsense.schemas.base import MAX_ID_LENGTH, Event, InternalMessage

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


_JSON_SPACE = b" \t\n\r"


KeyCount = Callable[[Any], int]


def _count_any(value: object) -> int:
    """The keys a validated value of any type was read from, found by walking it."""
    if isinstance(value, BaseModel):
        return _model_keys(type(value))(value)
    if isinstance(value, dict):
        return len(value) + sum(_count_any(item) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(_count_any(item) for item in value)
    return 0


def _keys_of(annotation: Any) -> KeyCount | None:
    """Counts the object keys a validated value of ``annotation`` was read from; None for a type that holds none, or
    one not known here (counting too few only costs a second parse)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _keys_of(args[0])
    if origin is Union or origin is UnionType:
        counts = [count for arg in args if arg is not type(None) and (count := _keys_of(arg)) is not None]
        if not counts:
            return None
        if len(counts) == 1 == len(args) - 1:  # an optional model or container
            return lambda value: 0 if value is None else counts[0](value)
        return _count_any
    if origin is None and isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_keys(annotation)
    if origin is dict:
        item = _keys_of(args[1]) if args else _count_any
        if item is None:
            return len
        return lambda mapping: len(mapping) + sum(item(value) for value in mapping.values())
    if origin is list or origin is tuple:
        return _count_any if any(_keys_of(arg) is not None for arg in args if arg is not Ellipsis) else None
    return None


@cache
def _model_keys(model: type[BaseModel]) -> KeyCount:
    """Counts the keys a validated ``model`` was read from: the fields given, the extra keys it keeps, and the keys
    of what its fields hold. Never more than the distinct keys read: no validator here adds a key (the reading's
    drops its null channels)."""
    keeps_extra = model.model_config.get("extra") == "allow"
    nested: list[tuple[str, KeyCount]] | None = None

    def keys(record: Any) -> int:
        nonlocal nested
        if nested is None:  # on first use, so that a model may hold its own kind
            fields = model.model_fields.items()
            nested = [(name, count) for name, info in fields if (count := _keys_of(info.annotation))]
        given = record.__pydantic_fields_set__
        total = len(given) + (len(record.__pydantic_extra__) if keeps_extra else 0)
        for name, count in nested:
            if name in given:
                total += count(getattr(record, name))
        return total

    return keys


def _may_repeat_a_key(raw: bytes, record: BaseModel) -> bool:
    """False where ``raw`` has no more key tokens than the distinct keys ``record`` was read from, so no key twice.

    A key is a string followed by a colon: ``":`` once the JSON spaces are gone. An escaped quote before a colon
    inside a string counts too, which only overcounts."""
    tokens = raw.translate(None, _JSON_SPACE).count(b'":')
    return tokens > len(record.__pydantic_fields_set__) and tokens > _model_keys(type(record))(record)


class _RepeatedKey(Exception):
    """A JSON object gives a key twice."""


def _distinct_keys(pairs: list[tuple[str, Any]]) -> None:
    if len({key for key, _ in pairs}) < len(pairs):
        raise _RepeatedKey


class _Object(list[tuple[str, Any]]):
    """A JSON object's key-value pairs in order, a repeated key's included."""


def _repeated_key(raw: bytes) -> str | None:
    """A line naming the first key ``raw`` gives twice in one object, or None where there is none."""
    try:
        json.loads(raw, object_pairs_hook=_distinct_keys)
        return None
    except _RepeatedKey:
        return _name_repeated_key(json.loads(raw, object_pairs_hook=_Object))
    except (ValueError, RecursionError) as error:
        raise DecodeError("malformed_json", f"the check for repeated keys could not read it: {error}") from None


def _name_repeated_key(document: Any) -> str:
    """Where the first key given twice in one object is, found walking ``document`` depth first."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Object):
            seen: set[str] = set()
            for key, _ in value:
                if key in seen:
                    loc = json.dumps(".".join((*path, key)), ensure_ascii=False)[1:-1]
                    times = sum(1 for other, _ in value if other == key)
                    return (
                        f"{loc}: the key {json.dumps(key, ensure_ascii=False)} is given {times} times in one object,"
                        " and JSON readers differ on which value counts"
                    )
                seen.add(key)
            stack.extend((item, (*path, key)) for key, item in reversed(value))
        elif isinstance(value, list):
            stack.extend((item, (*path, str(i))) for i, item in reversed(list(enumerate(value))))
    raise AssertionError("no key is given twice")


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

    A key given twice in one object, at any depth, is refused (``duplicate_key``): pydantic would read the last value,
    another reader the first, so a producer's bug or a tampered message (``"amount":5,"amount":5000``) would pass
    silently. Checking costs a count of the key tokens in ``raw`` against the keys the record was read from; only
    where the tokens may be more (an escaped quote before a colon in a string, a key an internal message ignores, a
    reading's null channel) is ``raw`` parsed again to find one. An ``InternalMessage`` ignores unknown fields, at
    any depth.

    With ``max_ahead_s``, an event dated further than that after ``now`` (by default this machine's clock; the
    broker's append time where it dates the messages) is refused too: a producer whose clock is wrong would
    otherwise date state in the future (a fraud account's and the worker's day buckets, which keep the last 30
    days before the newest), and every later event would look late."""
    if raw is None or len(raw) == 0:
        raise DecodeError("empty", "message has no value")
    if len(raw) > max_bytes:
        raise DecodeError("oversized", f"message is {len(raw)} bytes, the limit is {max_bytes}")
    try:
        record = schema.model_validate_json(raw, extra="ignore" if issubclass(schema, InternalMessage) else None)
    except ValidationError as error:
        kind, reason = _describe(error)
        raise DecodeError(kind, reason) from error
    if _may_repeat_a_key(raw, record) and (repeated := _repeated_key(raw)):
        raise DecodeError("duplicate_key", repeated)
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
