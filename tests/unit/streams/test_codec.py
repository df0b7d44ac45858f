import orjson
import pytest

from streamsense.schemas.payments import Transaction
from streamsense.streams.codec import DecodeError, decode, encode

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
