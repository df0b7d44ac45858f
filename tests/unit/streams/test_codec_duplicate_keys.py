"""A key given twice in one object is refused by ``decode``, at any depth; no valid message is, whatever its strings
hold or however it is spaced."""

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from streamsense.schemas.chat import ChatDecision, ChatFeedback, ChatMessage, NewIntent
from streamsense.schemas.payments import PaymentDecision, ScoringRequest, TerminalLabel, Transaction, TransactionLabel
from streamsense.schemas.sensors import SensorAlert, SensorReading
from streamsense.streams.codec import DecodeError, _may_repeat_a_key, decode, encode

AT = datetime(2026, 4, 1, 10, tzinfo=UTC)
TX = Transaction(
    event_id="tx-1",
    event_time=AT,
    account_id="C1",
    terminal_id="T1",
    amount=5,
    customer_x=1.5,
    customer_y=2.5,
    terminal_x=3.5,
    terminal_y=4.5,
    age_band="26-40",
    gender="female",
)
LABEL = TransactionLabel(event_id="lb-1", event_time=AT, transaction_id="tx-1", account_id="C1", is_fraud=True)
DECIDED = {"event_id": "e-1", "event_time": AT, "decided_at": AT, "key": "k", "model": {"name": "m", "version": "1"}}
REASONS = [
    {"feature": "amount", "value": 5.0, "contribution": 0.3},
    {"feature": "band", "value": "26-40", "contribution": 0},
]
VALID: list[BaseModel] = [
    TX,
    LABEL,
    ScoringRequest(transaction=TX, account_summary=[0.5, 1.0], label=LABEL),
    ScoringRequest(transaction=TX, account_summary=[]),
    TerminalLabel(label=LABEL, terminal_id="T1"),
    ChatMessage(event_id="m-1", event_time=AT, conversation_id="c-1", user_id="u-1", text="hello", language="en"),
    ChatFeedback(event_id="f-1", event_time=AT, conversation_id="c-1", text="block my card", intent="block_card"),
    NewIntent(event_id="i-1", event_time=AT, intent="refund", examples=[f"refund me {i}" for i in range(5)]),
    SensorReading(event_id="r-1", event_time=AT, device_id="d-1", values={"t": 1.0, "p": 2.0}, operating_regime=2),
    PaymentDecision(
        **DECIDED, score=0.2, label="legit", threshold=0.5, latency_ms=1, reasons=REASONS, features={"a": 1.0, "b": "x"}
    ),
    ChatDecision(
        **DECIDED,
        score=0.9,
        label="refund",
        latency_ms=1,
        intents=[{"intent": "refund", "probability": 0.9}],
        state={"domain": "bank", "slots": {"card": "visa", "day": "mon"}, "turn_count": 2},
        knowledge=[{"node_id": "faq:1", "kind": "faq", "text": "How?", "score": 0.5}],
    ),
    SensorAlert(**DECIDED, score=0.1, label="normal", latency_ms=1, failure_probability=0.2),
]
IDS = [type(model).__name__ for model in VALID]


def _refused(raw: bytes, schema: type[BaseModel]) -> DecodeError:
    with pytest.raises(DecodeError) as caught:
        decode(raw, schema, 1 << 16)
    return caught.value


@pytest.mark.parametrize("model", VALID, ids=IDS)
def test_a_valid_message_of_each_schema_is_accepted_compact_or_pretty_printed(model: BaseModel) -> None:
    raw = encode(model)
    assert decode(raw, type(model), 1 << 16) == model
    pretty = json.dumps(json.loads(raw), indent=2).replace('":', '" :').encode()
    assert decode(pretty, type(model), 1 << 16) == model


@pytest.mark.parametrize("model", VALID, ids=IDS)
def test_a_compact_message_of_each_schema_is_cleared_without_a_second_parse(model: BaseModel) -> None:
    raw = encode(model)
    assert not _may_repeat_a_key(raw, decode(raw, type(model), 1 << 16))


def test_a_top_level_key_given_twice_is_refused_with_the_key_named() -> None:
    raw = encode(TX).replace(b'"amount":5.0', b'"amount":5.0,"amount":5000.0')
    error = _refused(raw, Transaction)
    assert error.kind == "duplicate_key"
    assert error.reason.startswith('amount: the key "amount" is given 2 times in one object')
    assert "\n" not in error.reason


@pytest.mark.parametrize(
    ("model", "old", "new", "loc"),
    [
        (VALID[2], b'"amount":5.0', b'"amount":5000.0,"amount":5.0', "transaction.amount"),
        (VALID[2], b'"is_fraud":true', b'"is_fraud":false,"is_fraud":true', "label.is_fraud"),
        (VALID[4], b'"is_fraud":true', b'"is_fraud":true,"is_fraud":true', "label.is_fraud"),
        (VALID[8], b'"t":1.0', b'"t":1.0,"t":99.0', "values.t"),
        (VALID[9], b'"contribution":0.3', b'"contribution":0.3,"contribution":9', "reasons.0.contribution"),
        (VALID[10], b'"card":"visa"', b'"card":"visa","card":"amex"', "state.slots.card"),
    ],
)
def test_a_nested_key_given_twice_is_refused_with_its_path_named(model, old: bytes, new: bytes, loc: str) -> None:
    raw = encode(model)
    assert old in raw
    error = _refused(raw.replace(old, new, 1), type(model))
    assert error.kind == "duplicate_key"
    assert error.reason.startswith(f"{loc}: the key ")


def test_a_key_given_twice_with_spaces_before_its_colons_is_refused() -> None:
    raw = json.dumps(json.loads(encode(TX)), indent=2).replace('":', '" \t:').encode()
    raw = raw.replace(b'"amount" \t: 5.0', b'"amount" \t: 5.0,\n  "amount"\n:\r 5000.0')
    assert _refused(raw, Transaction).kind == "duplicate_key"


def test_a_key_given_twice_once_through_a_unicode_escape_is_refused() -> None:
    raw = encode(TX).replace(b'"amount":5.0', b'"amount":5.0,"amo\\u0075nt":5000.0')
    error = _refused(raw, Transaction)
    assert (error.kind, error.reason[:8]) == ("duplicate_key", "amount: ")


def test_a_key_given_twice_inside_a_field_an_internal_message_ignores_is_refused() -> None:
    raw = encode(VALID[4]).replace(b'"terminal_id":"T1"', b'"terminal_id":"T1","later":{"a":1,"a":2}')
    assert _refused(raw, TerminalLabel).reason.startswith('later.a: the key "a"')


@pytest.mark.parametrize(
    "text",
    [
        'he wrote "amount": 5000 and "amount" : 6',
        'a\\": b \\\\": c',
        '{"amount":5,"amount":6}',
        '"":"":":',
        "trailing backslash \\",
    ],
)
def test_a_text_holding_quotes_colons_and_backslashes_is_accepted(text: str) -> None:
    message = ChatMessage(event_id="m-1", event_time=AT, conversation_id="c-1", text=text)
    raw = encode(message)
    assert decode(raw, ChatMessage, 1 << 16) == message


def test_a_reading_whose_null_channel_is_dropped_is_accepted_and_one_named_twice_is_not() -> None:
    head = b'{"event_id":"r-1","event_time":"2026-04-01T10:00:00Z","device_id":"d-1","values":'
    assert decode(head + b'{"t":1.0,"p":null}}', SensorReading, 1024).values == {"t": 1.0}
    assert _refused(head + b'{"t":1.0,"p":null,"p":2.0}}', SensorReading).reason.startswith("values.p: ")


_TEXT = st.text(alphabet=st.sampled_from(list('"\\: \t\n{}[],ab\u00e9\u5361')), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, user=st.one_of(st.none(), st.sampled_from(["u-1", "a:b"])), spaced=st.booleans())
def test_no_valid_chat_message_is_refused_and_a_repeated_text_always_is(text: str, user: str | None, spaced: bool):
    message = ChatMessage(event_id="m-1", event_time=AT, conversation_id="c-1", user_id=user, text=text)
    document = json.loads(encode(message))
    separators = (", ", " : ") if spaced else (",", ":")
    raw = json.dumps(document, separators=separators, ensure_ascii=False).encode()
    assert decode(raw, ChatMessage, 1 << 16) == message
    repeated = raw[:-1] + json.dumps({"text": text}, separators=separators).encode().replace(b"{", b",", 1)
    error = _refused(repeated, ChatMessage)
    assert (error.kind, error.reason[:6]) == ("duplicate_key", "text: ")
