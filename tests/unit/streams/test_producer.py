from datetime import UTC, datetime

import pytest

from streamsense.schemas.chat import ChatFeedback
from streamsense.schemas.payments import Transaction
from streamsense.settings import Settings
from streamsense.streams.producer import EventProducer

NOW = datetime(2026, 4, 1, tzinfo=UTC)


def test_an_event_keyed_otherwise_than_by_its_key_field_is_refused_before_it_is_sent() -> None:
    producer = EventProducer(Settings(kafka_bootstrap="127.0.0.1:1"))
    tx = Transaction(event_id="tx-1", event_time=NOW, account_id="C1", terminal_id="T1", amount=5)
    sent: list[tuple[str, bytes | None]] = []
    producer.send_raw = lambda topic, key, value, headers=None: sent.append((topic, key))
    with pytest.raises(ValueError, match="not its account_id 'C1'"):
        producer.send("payments.transactions", "tx-1", tx)
    producer.send("payments.transactions", "C1", tx)
    feedback = ChatFeedback(event_id="f", event_time=NOW, conversation_id="c", text="hi", intent="greet")
    producer.send("chat.feedback", "any", feedback)
    assert sent == [("payments.transactions", b"C1"), ("chat.feedback", b"any")], "feedback may carry any key"
