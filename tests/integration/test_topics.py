"""Topic settings on the real broker: table changelogs are compacted, also where an earlier release created them
with Kafka's default deletion after a week (which drops state that a restart then misses)."""

import time
import uuid

import pytest
from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from streamsense.infra.local.launcher import LocalInfra
from streamsense.settings import Settings
from streamsense.streams.admin import ensure_topics
from streamsense.streams.connections import kafka_config
from streamsense.streams.topics import (
    BROADCAST_INPUTS,
    CHAT_DECISIONS,
    CHAT_FEEDBACK,
    CHAT_INTENTS,
    CHAT_MESSAGES,
    PAYMENTS_LABELS,
    PAYMENTS_SCORING,
    PAYMENTS_TRANSACTIONS,
    SENSOR_READINGS,
)
from streamsense.streams.worker import build_worker, changelog_config

pytestmark = pytest.mark.integration


def topic_config(settings: Settings, topic: str) -> dict[str, str]:
    """The topic's settings, once the broker knows of it (a new topic's metadata takes a moment to spread)."""
    admin = AdminClient(kafka_config(settings))
    resource = ConfigResource(ResourceType.TOPIC, topic)
    deadline = time.monotonic() + 30
    while True:
        try:
            entries = admin.describe_configs([resource])[resource].result(timeout=30)
            return {key: entry.value for key, entry in entries.items()}
        except KafkaException as error:
            if error.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_worker_creates_its_table_changelogs_compacted_with_closing_segments_a_cleaning_deadline_and_short_tombstones(
    infra: LocalInfra, settings: Settings
) -> None:
    app = build_worker("payments", settings)
    changelogs = [table.changelog_topic.get_topic_name() for table in app.tables.values()]
    assert len(changelogs) >= 4
    for topic in changelogs:
        config = topic_config(settings, topic)
        kept = ("cleanup.policy", "segment.ms", "max.compaction.lag.ms", "delete.retention.ms")
        assert tuple(config[name] for name in kept) == (
            "compact",
            str(settings.changelog_segment_ms),
            str(settings.changelog_compaction_lag_ms),
            str(settings.changelog_tombstone_ms),
        )


def test_a_changelog_created_with_deletion_is_altered_to_compaction(infra: LocalInfra, settings: Settings) -> None:
    topic = f"streamsense-test-{uuid.uuid4().hex[:8]}-changelog"
    assert ensure_topics(settings, [topic]) == [topic]
    assert topic_config(settings, topic)["cleanup.policy"] == "delete"

    assert ensure_topics(settings, [topic], config=changelog_config(settings)) == []

    config = topic_config(settings, topic)
    assert (config["cleanup.policy"], config["segment.ms"]) == ("compact", str(settings.changelog_segment_ms))


def test_every_topic_a_worker_reads_is_dated_by_the_broker_and_only_intents_and_feedback_are_kept_for_ever(
    infra: LocalInfra, settings: Settings
) -> None:
    ensure_topics(settings)
    for topic in (CHAT_INTENTS, CHAT_FEEDBACK):
        config = topic_config(settings, topic)
        kept = (config["cleanup.policy"], config["retention.ms"], config["message.timestamp.type"])
        assert kept == ("delete", "-1", "LogAppendTime")
    for topic in (CHAT_MESSAGES, SENSOR_READINGS, PAYMENTS_TRANSACTIONS, PAYMENTS_LABELS, PAYMENTS_SCORING):
        config = topic_config(settings, topic)
        assert config["cleanup.policy"] == "delete" and config["retention.ms"] != "-1"
        assert config["message.timestamp.type"] == "LogAppendTime"
    assert topic_config(settings, CHAT_DECISIONS)["message.timestamp.type"] == "CreateTime"


def test_the_broker_dates_the_messages_of_a_topic_every_worker_reads_whole(
    infra: LocalInfra, settings: Settings
) -> None:
    """A producer's timestamp (here a day old) gives way to the broker's, the time that workers judge an event's
    ``event_time`` against whenever they read it."""
    topic = f"streamsense-test-{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic], config=BROADCAST_INPUTS[CHAT_FEEDBACK])
    producer = Producer(kafka_config(settings))
    producer.produce(topic, key=b"k", value=b"v", timestamp=int((time.time() - 86_400) * 1000))
    assert producer.flush(30) == 0
    consumer = Consumer({**kafka_config(settings), "group.id": topic, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        message = None
        deadline = time.monotonic() + 30
        while message is None and time.monotonic() < deadline:
            message = consumer.poll(1.0)
    finally:
        consumer.close()
    assert message is not None and message.error() is None
    kind, timestamp_ms = message.timestamp()
    assert kind == TIMESTAMP_LOG_APPEND_TIME
    assert abs(timestamp_ms / 1000 - time.time()) < 60
