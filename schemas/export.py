"""JSON Schema export, so producers in other languages validate before they send."""

import json
from pathlib import Path

from pydantic import BaseModel

from streamsense.schemas.chat import ChatDecision, ChatFeedback, ChatMessage, NewIntent
from streamsense.schemas.payments import PaymentDecision, Transaction, TransactionLabel
from streamsense.schemas.sensors import SensorAlert, SensorReading

EXPORTED: tuple[type[BaseModel], ...] = (
    Transaction,
    TransactionLabel,
    PaymentDecision,
    ChatMessage,
    ChatFeedback,
    ChatDecision,
    NewIntent,
    SensorReading,
    SensorAlert,
)


def export_json_schemas(directory: Path) -> list[Path]:
    """Write ``<Model>.json`` for every event and decision model; returns the files written. An event's schema
    names the field its message key must equal as ``x-kafka-key`` (workers dead-letter an event keyed otherwise)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for model in EXPORTED:
        path = directory / f"{model.__name__}.json"
        schema = model.model_json_schema()
        if key := getattr(model, "KEY_FIELD", None):
            schema["x-kafka-key"] = key
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
