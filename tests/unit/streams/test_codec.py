from datetime import UTC, datetime, timedelta

import orjson
import pytest

from streamsense.schemas.chat import ChatFeedback, ChatMessage, NewIntent
from streamsense.schemas.payments import ScoringRequest, TerminalLabel, Transaction, TransactionLabel
from streamsense.streams.codec import LOG_APPEND_TIME, DecodeError, appended_at, check_key, decode, encode

VALID = b'{"event_id":"tx-1","event_time":"2026-04-01T00:00:00Z","account_id":"C1","terminal_id":"T1","amount":5}'


def test_valid_event_round_trips_through_the_wire_format():
    tx = decode(VALID, Transaction, 1024)
    assert decode(encode(tx), Transaction, 1024) == tx


@pytest.mark.parametrize(
    ("raw", "kind", "fragment"),
    [
        (b"{not json", "malformed_json", "JSON"),
        (b"\xff\xfe\x00garbage", "malformed_json", ""),
        (
            b'{"event_id":"tx-1","event_time":"2026-04-01T00:00:00Z","terminal_id":"T1","amount":5}',
            "missing_field",
            "account_id",
        ),
        (
            b'{"event_id":"tx-1","event_time":"2026-04-01T00:00:00Z","account_id":"C1","terminal_id":"T1","amount":"lots"}',
            "invalid_field",
            "amount",
        ),
        (b"", "empty", "no value"),
        (None, "empty", "no value"),
    ],
)
def test_bad_input_gets_a_classified_reason(raw, kind, fragment):
    with pytest.raises(DecodeError) as caught:
        decode(raw, Transaction, 1024)
    assert caught.value.kind == kind
    assert fragment in caught.value.reason


def test_oversized_message_is_rejected_before_parsing():
    big = orjson.dumps({"pad": "x" * 5000})
    with pytest.raises(DecodeError) as caught:
        decode(big, Transaction, 1024)
    assert caught.value.kind == "oversized"
    assert "limit is 1024" in caught.value.reason


def test_reason_is_bounded_in_length():
    many = orjson.dumps({f"k{i}": i for i in range(500)})
    with pytest.raises(DecodeError) as caught:
        decode(many, Transaction, 1 << 20)
    assert len(caught.value.reason) <= 500


def test_an_event_dated_further_ahead_of_the_clock_than_allowed_is_refused_with_the_setting_to_change() -> None:
    def dated(ahead: timedelta) -> bytes:
        return VALID.replace(b"2026-04-01T00:00:00Z", (datetime.now(UTC) + ahead).isoformat().encode())

    assert decode(dated(timedelta(minutes=50)), Transaction, 1024, max_ahead_s=3600).account_id == "C1"
    assert decode(dated(timedelta(days=3650)), Transaction, 1024).account_id == "C1"
    with pytest.raises(DecodeError) as refused:
        decode(dated(timedelta(hours=2)), Transaction, 1024, max_ahead_s=3600)
    assert refused.value.kind == "invalid_field"
    assert "event_time" in refused.value.reason and "STREAMSENSE_MAX_EVENT_AHEAD_S" in refused.value.reason


def test_an_event_the_broker_dated_is_judged_against_its_append_time_whenever_it_is_read() -> None:
    """Read two hours later, an event written two hours ahead of the broker's clock is still refused, and one
    written on time is still taken."""
    written = datetime.now(UTC) - timedelta(hours=2)
    ahead = VALID.replace(b"2026-04-01T00:00:00Z", datetime.now(UTC).isoformat().encode())
    on_time = VALID.replace(b"2026-04-01T00:00:00Z", written.isoformat().encode())
    appended = appended_at(written.timestamp(), LOG_APPEND_TIME)
    with pytest.raises(DecodeError, match="the time the broker appended it"):
        decode(ahead, Transaction, 1024, max_ahead_s=3600, now=appended)
    assert decode(on_time, Transaction, 1024, max_ahead_s=3600, now=appended).account_id == "C1"
    assert appended_at(written.timestamp(), 0) is None  # dated by its producer, whose clock may be the wrong one


def test_an_event_keyed_otherwise_than_by_its_key_field_or_not_at_all_is_refused_as_wrong_key() -> None:
    tx = decode(VALID, Transaction, 1024)
    assert check_key(tx, b"C1") is tx
    for key, given in ((b"tx-1", "the key 'tx-1'"), (None, "no key"), (b"c1", "the key 'c1'"), (b"\xff", "'\ufffd'")):
        with pytest.raises(DecodeError) as refused:
            check_key(tx, key)
        assert refused.value.kind == "wrong_key"
        assert given in refused.value.reason and "account_id 'C1'" in refused.value.reason


def test_each_topic_is_keyed_by_the_field_its_state_is_kept_by_and_feedback_by_anything() -> None:
    now = datetime(2026, 4, 1, tzinfo=UTC)
    message = ChatMessage(event_id="m", event_time=now, conversation_id="conv-1", text="hi")
    added = NewIntent(event_id="n", event_time=now, intent="Hotel-Pets", examples=["dogs ?"] * 5)
    feedback = ChatFeedback(event_id="f", event_time=now, conversation_id="conv-1", text="hi", intent="greet")
    assert check_key(message, b"conv-1") is message
    assert check_key(added, b"Hotel-Pets") is added
    assert check_key(feedback, b"anything") is feedback
    for event, key in ((message, b"user-7"), (added, b"hotel-pets")):
        with pytest.raises(DecodeError, match="wrong_key"):
            check_key(event, key)


def test_a_newer_workers_hand_over_with_fields_unknown_here_at_any_depth_is_read_without_them() -> None:
    """In a rolling upgrade a newer account stage writes a field it added to the request or to the transaction (at
    its default, too); the older terminal stage scores the transaction rather than dead-letter it."""
    tx = decode(VALID, Transaction, 1024)
    label = TransactionLabel(
        event_id="lb-1", event_time=tx.event_time, transaction_id="tx-1", account_id="C1", is_fraud=True
    )
    request = ScoringRequest(transaction=tx, account_summary=[0.5], label=label)
    newer = orjson.loads(encode(request))
    newer["route"] = {"region": "eu"}
    newer["transaction"]["merchant_category"] = None
    newer["label"]["source"] = "chargeback"
    assert decode(orjson.dumps(newer), ScoringRequest, 4096) == request
    handed = {"label": {**orjson.loads(encode(label)), "source": "chargeback"}, "terminal_id": "T1", "hops": 2}
    assert decode(orjson.dumps(handed), TerminalLabel, 4096) == TerminalLabel(label=label, terminal_id="T1")


def test_a_hand_over_still_refuses_what_it_knows_to_be_wrong() -> None:
    request = orjson.loads(encode(ScoringRequest(transaction=decode(VALID, Transaction, 1024), account_summary=[])))
    request["transaction"]["amount"] = -5
    with pytest.raises(DecodeError) as refused:
        decode(orjson.dumps(request), ScoringRequest, 4096)
    assert (refused.value.kind, refused.value.reason[:19]) == ("invalid_field", "transaction.amount:")


def test_a_producers_event_with_a_field_unknown_here_is_still_refused_with_the_field_named() -> None:
    with pytest.raises(DecodeError) as refused:
        decode(VALID[:-1] + b',"merchant_category":null}', Transaction, 1024)
    assert refused.value.kind == "invalid_field"
    assert refused.value.reason.startswith("merchant_category: Extra inputs are not permitted")
