"""Chat decisions end to end, on the real broker and node (needs `streamsense train chat`)."""

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from confluent_kafka import Message

from streamsense.agents.chat import missing_artifacts
from streamsense.schemas.chat import ChatMessage
from streamsense.streams.topics import CHAT_DECISIONS, CHAT_MESSAGES

pytestmark = pytest.mark.integration
INDEX = "streamsense-decisions-chat"
TURNS = (
    "I am looking for a cheap italian restaurant in the centre of town .",
    "Can I have the phone number and the postcode please ?",
    "Can you also find me a train to cambridge on thursday ?",
)


def _conversation() -> list[ChatMessage]:
    """The turns of a new conversation, 30 s apart."""
    conversation = f"it-{uuid.uuid4().hex[:10]}"
    start = datetime(2026, 4, 1, 12, tzinfo=UTC)
    return [
        ChatMessage(
            event_id=f"{conversation}-{n}",
            event_time=start + timedelta(seconds=30 * n),
            conversation_id=conversation,
            text=text,
        )
        for n, text in enumerate(TURNS)
    ]


def _event_id(message: Message) -> str:
    return orjson.loads(message.value())["event_id"]


def test_three_turn_conversation_accumulates_state_across_a_worker_restart(
    start_worker, producer, es, count_by_id, wait_for
):
    if missing_artifacts():
        pytest.fail(missing_artifacts())
    messages = _conversation()

    def send_and_wait(message: ChatMessage) -> dict:
        producer.send(CHAT_MESSAGES, message.conversation_id, message)
        producer.flush()
        wait_for(lambda: len(count_by_id(INDEX, [message.event_id])) == 1, 240, f"decision {message.event_id}")
        return es.get(index=INDEX, id=message.event_id)["_source"]

    worker = start_worker("chat")
    first, second = send_and_wait(messages[0]), send_and_wait(messages[1])
    worker.stop()
    start_worker("chat")
    third = send_and_wait(messages[2])

    assert [d["state"]["turn_count"] for d in (first, second, third)] == [1, 2, 3]
    assert first["state"]["domain"] == "restaurant"
    assert first["state"]["slots"], "the first turn fills restaurant slots"
    for slot, value in first["state"]["slots"].items():
        assert third["state"]["slots"].get(slot) == value, f"{slot} survived the restart"
    assert all(d["intents"] and d["knowledge"] for d in (first, second, third))
    # the request names no domain: alone the model cannot tell whose phone number, the conversation can
    assert second["intents"][0]["intent"] == "Restaurant-Request", second["intents"]


def test_a_worker_starting_on_a_conversations_turns_decides_each_once_with_the_state_the_earlier_ones_left(
    start_worker, producer, read_topic, es, count_by_id, wait_for
):
    if missing_artifacts():
        pytest.fail(missing_artifacts())
    messages = _conversation()
    ids = [m.event_id for m in messages]
    for message in messages:  # all waiting before the worker starts: its first fetch takes them together
        producer.send(CHAT_MESSAGES, message.conversation_id, message)
    producer.flush()

    start_worker("chat")
    wait_for(lambda: len(count_by_id(INDEX, ids)) == len(ids), 240, f"decisions of {ids}")
    first, second, third = (es.get(index=INDEX, id=i)["_source"] for i in ids)

    assert [d["state"]["turn_count"] for d in (first, second, third)] == [1, 2, 3]
    assert first["state"]["domain"] == "restaurant" and first["state"]["slots"]
    for slot, value in first["state"]["slots"].items():
        assert third["state"]["slots"].get(slot) == value, f"{slot} carried to the third turn"
    assert all(d["intents"] and d["knowledge"] for d in (first, second, third))

    # records fetched before the worker's first seek were once decided again after it: twice on the topic
    decisions = read_topic(CHAT_DECISIONS)
    wait_for(lambda: set(ids) <= {_event_id(m) for m in decisions.poll(1.0)}, 60, "the decisions on the topic")
    decisions.poll(2.0)
    assert Counter(e for e in map(_event_id, decisions.messages) if e in ids) == dict.fromkeys(ids, 1)
