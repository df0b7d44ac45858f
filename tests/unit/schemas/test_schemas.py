import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from streamsense.schemas.base import Event, InternalMessage
from streamsense.schemas.chat import ChatFeedback, ChatMessage, NewIntent
from streamsense.schemas.export import export_json_schemas
from streamsense.schemas.payments import PaymentDecision, ScoringRequest, TerminalLabel, Transaction, TransactionLabel
from streamsense.schemas.sensors import SensorReading

TX = {
    "event_id": "tx-1",
    "event_time": "2026-04-01T10:00:00+02:00",
    "account_id": "C1",
    "terminal_id": "T1",
    "amount": 42.5,
}


def test_transaction_event_time_is_normalised_to_utc():
    tx = Transaction.model_validate(TX)
    assert tx.event_time == datetime(2026, 4, 1, 8, tzinfo=UTC)
    assert tx.schema_version == 1


def test_naive_event_time_is_rejected():
    with pytest.raises(ValidationError, match="timezone"):
        Transaction.model_validate({**TX, "event_time": "2026-04-01T10:00:00"})


def test_unknown_field_is_rejected_rather_than_dropped():
    with pytest.raises(ValidationError, match="extra"):
        Transaction.model_validate({**TX, "amout": 1})


@pytest.mark.parametrize("event", [Transaction, TransactionLabel, ChatMessage, ChatFeedback, NewIntent, SensorReading])
def test_every_producers_event_refuses_a_field_unknown_here(event: type[Event]) -> None:
    assert not issubclass(event, InternalMessage)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        event.model_validate({"unknown": 1})


def test_the_hand_overs_between_payments_workers_ignore_a_field_a_newer_worker_added() -> None:
    """Refused, it would dead-letter every hand-over a newer worker sends an older one in a rolling upgrade."""
    tx = Transaction.model_validate(TX)
    assert ScoringRequest.model_validate({"transaction": tx, "account_summary": [1.0], "route": "eu"}).transaction == tx
    label = TransactionLabel(
        event_id="lb-1", event_time=tx.event_time, transaction_id="tx-1", account_id="C1", is_fraud=False
    )
    assert TerminalLabel.model_validate({"label": label, "terminal_id": "T1", "hops": 2}).label == label
    assert issubclass(ScoringRequest, InternalMessage) and issubclass(TerminalLabel, InternalMessage)


@pytest.mark.parametrize("amount", [-1, float("nan"), float("inf")])
def test_impossible_amounts_are_rejected(amount):
    with pytest.raises(ValidationError):
        Transaction.model_validate({**TX, "amount": amount})


def test_future_schema_version_is_rejected():
    with pytest.raises(ValidationError):
        Transaction.model_validate({**TX, "schema_version": 2})


def test_label_sensor_and_chat_events_validate():
    TransactionLabel.model_validate(
        {
            "event_id": "l1",
            "event_time": "2026-04-08T00:00:00Z",
            "transaction_id": "tx-1",
            "account_id": "C1",
            "is_fraud": True,
        }
    )
    SensorReading.model_validate(
        {"event_id": "r1", "event_time": "2026-04-08T00:00:00Z", "device_id": "d1", "values": {"temp": 21.5}}
    )
    ChatMessage.model_validate(
        {"event_id": "m1", "event_time": "2026-04-08T00:00:00Z", "conversation_id": "c1", "text": "hi"}
    )


@pytest.mark.parametrize("count", [4, 51])
def test_a_new_intent_needs_5_to_50_examples(count):
    event = {"event_id": "i1", "event_time": "2026-04-08T00:00:00Z", "intent": "Hotel-Pets"}
    assert len(NewIntent.model_validate({**event, "examples": ["a dog ?"] * 5}).examples) == 5
    with pytest.raises(ValidationError, match="examples"):
        NewIntent.model_validate({**event, "examples": ["a dog ?"] * count})


def test_sensor_reading_needs_at_least_one_value():
    with pytest.raises(ValidationError):
        SensorReading.model_validate(
            {"event_id": "r1", "event_time": "2026-04-08T00:00:00Z", "device_id": "d", "values": {}}
        )
    with pytest.raises(ValidationError, match="no channel holds a value"):
        SensorReading.model_validate_json(
            '{"event_id": "r1", "event_time": "2026-04-08T00:00:00Z", "device_id": "d", "values": {"temp": null}}'
        )


def test_a_null_channel_is_a_channel_the_reading_lacks_and_a_bool_or_a_string_is_not_a_number():
    """One null refused the whole reading, while a channel left out is filled in; true and "12.5" were numbers."""
    head = '{"event_id": "r1", "event_time": "2026-04-08T00:00:00Z", "device_id": "d", "values": '
    reading = SensorReading.model_validate_json(head + '{"temp": 21.5, "vibration": null, "speed": 3}}')
    assert reading.values == {"temp": 21.5, "speed": 3.0}
    for value in ("true", '"12.5"'):
        with pytest.raises(ValidationError, match="valid number"):
            SensorReading.model_validate_json(head + '{"temp": ' + value + "}}")


def _payment_decision(score: float, label: str) -> PaymentDecision:
    return PaymentDecision(
        event_id="tx-1",
        event_time=datetime.now(UTC),
        decided_at=datetime.now(UTC),
        key="C1",
        model={"name": "m", "version": "1"},
        score=score,
        label=label,
        threshold=0.5,
        latency_ms=1.0,
    )


def test_payment_decision_label_is_constrained():
    with pytest.raises(ValidationError):
        _payment_decision(0.2, "maybe")


def test_export_writes_one_json_schema_per_model(tmp_path):
    written = export_json_schemas(tmp_path)
    names = {p.name for p in written}
    assert {"Transaction.json", "TransactionLabel.json", "ChatMessage.json", "SensorReading.json"} <= names
    schema = json.loads((tmp_path / "Transaction.json").read_text())
    assert {"event_id", "event_time", "schema_version", "account_id"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    keys = {p.stem: json.loads(p.read_text()).get("x-kafka-key") for p in written}
    assert keys["Transaction"] == keys["TransactionLabel"] == "account_id"
    assert (keys["SensorReading"], keys["ChatMessage"], keys["NewIntent"]) == ("device_id", "conversation_id", "intent")
    assert keys["ChatFeedback"] is None, "every worker reads the whole feedback topic: its key places nothing"


@pytest.mark.parametrize("event_time", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_an_event_time_beyond_the_calendar_once_in_utc_is_a_validation_error_not_an_overflow(event_time):
    with pytest.raises(ValidationError, match="outside years 1 to 9999"):
        Transaction.model_validate({**TX, "event_time": event_time})


@pytest.mark.parametrize("score", [float("inf"), float("nan")])
def test_a_decision_whose_score_is_not_a_finite_number_is_refused(score):
    with pytest.raises(ValidationError, match="finite number"):
        _payment_decision(score, "fraud")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "true"),
        ("amount", '"10"'),
        ("customer_x", '"12.5"'),
        ("schema_version", "true"),
    ],
)
def test_a_bool_or_a_string_is_no_amount_coordinate_or_version(field: str, value: str) -> None:
    """``true`` was read as an amount of 1.0 and ``"10"`` as 10.0: a producer's mistake, not a payment."""
    raw = json.dumps({**TX, field: "VALUE"}).replace('"VALUE"', value)
    with pytest.raises(ValidationError):
        Transaction.model_validate_json(raw)


def test_whole_numbers_are_still_amounts_and_coordinates() -> None:
    tx = Transaction.model_validate_json(json.dumps({**TX, "amount": 42, "customer_x": 3, "schema_version": 1}))
    assert (tx.amount, tx.customer_x) == (42.0, 3.0)


@pytest.mark.parametrize("regime", ["true", '"1"', "1.0"])
def test_an_operating_regime_is_a_whole_number_not_a_bool_a_string_or_a_float(regime: str) -> None:
    raw = '{"event_id": "r-1", "event_time": "2026-01-01T00:00:00Z", "device_id": "d-1", "values": {"t": 1.0}'
    with pytest.raises(ValidationError):
        SensorReading.model_validate_json(raw + f', "operating_regime": {regime}}}')
    assert SensorReading.model_validate_json(raw + ', "operating_regime": 1}').operating_regime == 1
