"""Chat decisions end to end, on the real broker and node (needs `streamsense train chat`)."""

import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from confluent_kafka import Message

from streamsense.agents.chat import missing_artifacts
from streamsense.schemas.chat import ChatFeedback, ChatMessage, NewIntent
from streamsense.streams.app import worker_datadir
from streamsense.streams.topics import (
    CHAT_DECISIONS,
    CHAT_FEEDBACK,
    CHAT_INTENTS,
    CHAT_MESSAGES,
    STREAMS,
    dlq_topic,
)
from streamsense.streams.worker import worker_environment

pytestmark = pytest.mark.integration
INDEX = "streamsense-decisions-chat"
TURNS = (
    "I am looking for a cheap italian restaurant in the centre of town .",
    "Can I have the phone number and the postcode please ?",
    "Can you also find me a train to cambridge on thursday ?",
)


@pytest.fixture(autouse=True)
def trained_chat_models() -> None:
    """Every test here needs the trained chat models (``streamsense train chat``)."""
    if missing_artifacts():
        pytest.fail(missing_artifacts())


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


PET_EXAMPLES = [
    "can I bring my dog to the hotel",
    "are pets allowed in the rooms",
    "is the hotel dog friendly",
    "do you accept cats",
    "can my pet stay with me in the room",
]


def test_an_intent_added_from_five_examples_reaches_the_worker_and_one_restarted_from_its_snapshot_until_removed(
    start_worker, producer, read_topic, es, count_by_id, wait_for, settings
):
    """The restarted worker takes up the snapshot of what the first one learned (its data dir is the same); bad
    intents and the removal of a trained one are dead-lettered."""
    name = f"Hotel-Pets-{uuid.uuid4().hex[:8]}"
    snapshotting = {"STREAMSENSE_WORKER_NAME": f"chat-{name}", "STREAMSENSE_CHAT_SNAPSHOT_S": "1"}
    snapshot = worker_datadir(settings.state_dir / "workers", STREAMS["chat"], f"chat-{name}") / "chat-learned.pt"
    now = datetime.now(UTC)
    added = NewIntent(event_id=f"{name}-add", event_time=now, intent=name, examples=PET_EXAMPLES)
    trained_name = NewIntent(event_id=f"{name}-trained", event_time=now, intent="Hotel-Inform", examples=PET_EXAMPLES)
    too_few = orjson.dumps({**orjson.loads(added.model_dump_json()), "examples": PET_EXAMPLES[:3]})
    worker = start_worker("chat", extra_env=snapshotting)
    producer.send(CHAT_INTENTS, name, added)
    producer.send(CHAT_INTENTS, trained_name.intent, trained_name)
    producer.send_raw(CHAT_INTENTS, f"{name}-few".encode(), too_few)
    producer.flush()
    probes = iter(range(1_000))

    def intents() -> list[str]:
        """The intents of a new question (the worker adds or removes an intent as soon as it reads the event, so
        the first questions after it may come before)."""
        message = ChatMessage(
            event_id=f"{name}-q{next(probes)}",
            event_time=datetime.now(UTC),
            conversation_id=name,
            text="are dogs allowed at the hotel ?",
        )
        producer.send(CHAT_MESSAGES, message.conversation_id, message)
        producer.flush()
        wait_for(lambda: len(count_by_id(INDEX, [message.event_id])) == 1, 120, f"decision {message.event_id}")
        return [i["intent"] for i in es.get(index=INDEX, id=message.event_id)["_source"]["intents"]]

    wait_for(lambda: intents()[0] == name, 120, f"a decision with {name}", interval_s=1.0)
    dead = read_topic(dlq_topic(CHAT_INTENTS))
    letters: dict[str, list[dict]] = {}

    def dead_lettered(key: str, reason: bytes, kind: bytes | None = b"unusable") -> Callable[[], bool]:
        """A letter for ``key`` whose reason holds ``reason`` (the restarted worker may deliver one again)."""

        def there() -> bool:
            for m in dead.poll(1.0):
                letters.setdefault(m.key().decode(), []).append(dict(m.headers()))
            return any(
                reason in h["dlq.error.reason"] and kind in (None, h["dlq.error.kind"]) for h in letters.get(key, [])
            )

        return there

    wait_for(dead_lettered("Hotel-Inform", b"trained intent"), 60, "the trained intent's name on the dead letters")
    wait_for(
        dead_lettered(f"{name}-few", b"examples", None), 60, "the intent with too few examples on the dead letters"
    )

    wait_for(snapshot.exists, 30, f"the worker's snapshot {snapshot}")
    time.sleep(2)  # a snapshot after the last event
    worker.stop()
    restarted = start_worker("chat", extra_env=snapshotting)
    wait_for(lambda: intents()[0] == name, 120, f"a restarted worker's decision with {name}", interval_s=1.0)
    assert "took up the snapshot" in restarted.log_path.read_text()

    producer.send_raw(CHAT_INTENTS, name.encode(), None)
    producer.send_raw(CHAT_INTENTS, b"Hotel-Inform", None)
    producer.flush()
    wait_for(lambda: name not in intents(), 120, f"a decision without the removed {name}", interval_s=1.0)
    removal = dead_lettered("Hotel-Inform", b"only those can be removed")
    wait_for(removal, 60, "the removal of a trained intent on the dead-letter topic")


def test_feedback_teaches_the_worker_and_a_restarted_one_learns_the_same_and_feedback_before_its_intent_is_refused(
    start_worker, producer, read_topic, es, count_by_id, wait_for
):
    """Feedback for an intent not yet added is dead-lettered; the intent is added after it, and a restarted worker,
    which reads both topics whole in the order the broker wrote them, refuses that feedback too."""
    run = f"fb-{uuid.uuid4().hex[:8]}"
    text = "is there free parking near the museum ?"
    probes = iter(range(1_000))

    def intents() -> dict[str, float]:
        """The intents of the text as a new conversation's first message (no context), as decided now."""
        n = next(probes)
        message = ChatMessage(
            event_id=f"{run}-q{n}", event_time=datetime.now(UTC), conversation_id=f"{run}-{n}", text=text
        )
        producer.send(CHAT_MESSAGES, message.conversation_id, message)
        producer.flush()
        wait_for(lambda: len(count_by_id(INDEX, [message.event_id])) == 1, 120, f"decision {message.event_id}")
        return {i["intent"]: i["probability"] for i in es.get(index=INDEX, id=message.event_id)["_source"]["intents"]}

    worker = start_worker("chat")
    before = intents()
    taught = list(before)[1]  # the runner-up, so that its probability can be read before and after
    now = datetime.now(UTC)
    for n in range(8):
        feedback = ChatFeedback(event_id=f"{run}-f{n}", event_time=now, conversation_id=run, text=text, intent=taught)
        producer.send(CHAT_FEEDBACK, run, feedback)
    unknown = ChatFeedback(event_id=f"{run}-unknown", event_time=now, conversation_id=run, text=text, intent=run)
    producer.send(CHAT_FEEDBACK, run, unknown)
    producer.flush()
    seen: list[float] = []

    def learned() -> bool:
        """The taught intent's probability has risen and stays put (every feedback event is learned)."""
        seen.append(intents().get(taught, 0.0))
        return len(seen) >= 2 and seen[-1] == seen[-2] > before[taught] + 0.02

    wait_for(learned, 120, f"the worker to learn {taught} from feedback", interval_s=1.0)
    dead = read_topic(dlq_topic(CHAT_FEEDBACK))
    letters: dict[str, dict] = {}

    def dead_lettered() -> bool:
        letters.update({m.key().decode(): dict(m.headers()) for m in dead.poll(1.0) if m.key()})
        return run in letters

    wait_for(dead_lettered, 60, "the feedback for an unknown intent on the dead-letter topic")
    assert letters[run]["dlq.error.kind"] == b"unusable"
    assert b"unknown intent" in letters[run]["dlq.error.reason"]
    examples = [text, "where can i park my car ?", "is there a car park ?", "do you have parking ?", "parking please"]
    producer.send(CHAT_INTENTS, run, NewIntent(event_id=f"{run}-add", event_time=now, intent=run, examples=examples))
    producer.flush()
    added: list[dict[str, float]] = []

    def added_and_settled() -> bool:
        added.append(intents())
        return run in added[-1] and len(added) >= 2 and added[-1] == added[-2]

    wait_for(added_and_settled, 120, f"the worker to add {run}", interval_s=1.0)

    worker.stop()
    start_worker("chat")
    again: list[dict[str, float]] = []

    def learned_again() -> bool:
        """The same intents with the same probabilities: the same steps in the same order, without the feedback that
        came before its intent."""
        again.append(intents())
        return again[-1].keys() == added[-1].keys() and all(abs(again[-1][i] - p) <= 1e-6 for i, p in added[-1].items())

    wait_for(learned_again, 120, f"a restarted worker's intents to reach {added[-1]}", interval_s=1.0)


def test_a_conversation_silent_for_longer_than_the_idle_time_leaves_the_table_and_its_changelog(
    start_worker, producer, read_topic, es, count_by_id, wait_for, key_per_partition
):
    run = f"idle-{uuid.uuid4().hex[:8]}"
    start = datetime.now(UTC) - timedelta(hours=1)
    # the partition must move past the idle time plus the margin for messages dated ahead of the clock
    idle = {"STREAMSENSE_CHAT_IDLE_S": "60", "STREAMSENSE_MAX_EVENT_AHEAD_S": "30"}
    start_worker("chat", extra_env={**idle, "STREAMSENSE_CHAT_EXPIRY_CHECK_S": "1"})
    changelog = read_topic(f"{STREAMS['chat'].app_id}-chat-conversations-changelog")

    def decided(messages: list[ChatMessage]) -> list[dict]:
        for message in messages:
            producer.send(CHAT_MESSAGES, message.conversation_id, message)
        producer.flush()
        ids = [m.event_id for m in messages]
        wait_for(lambda: len(count_by_id(INDEX, ids)) == len(ids), 120, f"{len(ids)} decisions")
        return [es.get(index=INDEX, id=i)["_source"] for i in ids]

    first = ChatMessage(event_id=f"{run}-0", event_time=start, conversation_id=run, text=TURNS[0])
    assert decided([first])[0]["state"]["turn_count"] == 1
    # another conversation on every partition, two minutes later, so the partition holding the first conversation
    # moves past its idle time
    later = start + timedelta(minutes=2)
    decided(
        [
            ChatMessage(event_id=key, event_time=later, conversation_id=key, text="thank you .")
            for key in key_per_partition(f"{run}-o")
        ]
    )

    def tombstoned() -> bool:
        return any(m.value() is None and orjson.loads(m.key()) == run for m in changelog.poll(1.0) if m.key())

    wait_for(tombstoned, 60, f"a tombstone for {run} on the conversations' changelog")
    resumed = ChatMessage(event_id=f"{run}-1", event_time=later, conversation_id=run, text=TURNS[1])
    assert decided([resumed])[0]["state"]["turn_count"] == 1, "a new dialogue"


def test_the_intents_report_reads_both_topics_as_a_starting_worker_would(producer, settings) -> None:
    run = uuid.uuid4().hex[:8]
    kept, dropped = f"Hotel-Pets-{run}", f"Taxi-Pets-{run}"
    now = datetime.now(UTC)

    def feedback(n: int) -> ChatFeedback:
        return ChatFeedback(event_id=f"{run}-f{n}", event_time=now, conversation_id=run, text="dogs ?", intent=kept)

    producer.send(CHAT_FEEDBACK, run, feedback(0))  # before its intent: no worker learns it
    producer.flush()
    for name in (kept, dropped):
        producer.send(CHAT_INTENTS, name, NewIntent(event_id=name, event_time=now, intent=name, examples=PET_EXAMPLES))
    producer.flush()
    producer.send(CHAT_FEEDBACK, run, feedback(1))
    producer.send(CHAT_FEEDBACK, run, feedback(2))
    producer.send_raw(CHAT_INTENTS, dropped.encode(), None)
    producer.flush()

    command = [sys.executable, "-m", "streamsense", "report", "intents"]
    result = subprocess.run(command, env=worker_environment(settings), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    report = orjson.loads(result.stdout.splitlines()[-1])
    added = report["added"][kept]
    assert (added["examples"], added["feedback_learned"]) == (len(PET_EXAMPLES), 2)
    assert abs(datetime.fromisoformat(added["since"]) - now) < timedelta(minutes=1)  # when the broker wrote it
    assert dropped not in report["added"] and dropped in report["removed"]
    assert "Hotel-Inform" in report["trained"]
    assert report["refused"]["feedback for an unknown intent"] >= 1
