"""``streamsense consume`` on the real broker: a topic's messages as JSON lines, a dead letter's reason with them."""

import uuid

import orjson
import pytest
from typer.testing import CliRunner

from streamsense.cli.main import app
from streamsense.infra.local.launcher import LocalInfra
from streamsense.settings import Settings, get_settings
from streamsense.streams.producer import EventProducer
from streamsense.streams.topics import dlq_topic

pytestmark = pytest.mark.integration


def test_consume_prints_the_messages_of_a_topic_as_json_lines_with_their_headers(
    infra: LocalInfra, settings: Settings, producer: EventProducer
) -> None:
    topic, run = dlq_topic("chat.messages"), uuid.uuid4().hex[:8]
    producer.send_raw(topic, run.encode(), b'{"event_id": 1', [("dlq.error.reason", b"bad json")])
    producer.send_raw(topic, run.encode(), b'{"event_id": "ok"}')
    producer.flush()
    env = {"STREAMSENSE_KAFKA_BOOTSTRAP": settings.bootstrap_servers}

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["consume", topic, "--from-beginning", "--max-messages", "1000", "--timeout-s", "3"], env=env
        )
        missing = CliRunner().invoke(app, ["consume", f"no.such.topic.{run}", "--timeout-s", "1"], env=env)
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    ours = [line for line in lines if line["key"] == run]
    assert [(m["value"], m["headers"]) for m in ours] == [
        ('{"event_id": 1', {"dlq.error.reason": "bad json"}),
        ({"event_id": "ok"}, {}),
    ]
    assert missing.exit_code == 2 and "no topic" in missing.output
