"""The command line on the real broker: ``consume`` prints a topic's messages as JSON lines, a dead letter's reason
with them; ``produce feedback`` names only intents the workers hold."""

import uuid
from datetime import UTC, datetime

import orjson
import pytest
from typer.testing import CliRunner, Result

from streamsense.cli.main import app
from streamsense.infra.local.launcher import LocalInfra
from streamsense.schemas.chat import NewIntent
from streamsense.settings import Settings, get_settings
from streamsense.streams.producer import EventProducer
from streamsense.streams.topics import CHAT_INTENTS, dlq_topic

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


def test_feedback_for_an_intent_no_worker_holds_exits_2_and_for_an_added_one_is_sent(
    infra: LocalInfra, settings: Settings, producer: EventProducer
) -> None:
    """Until stop 37 both were "sent", and every worker refused the first."""
    name = f"Hotel-Pets-{uuid.uuid4().hex[:8]}"
    examples = [f"can I bring my dog {n}" for n in range(5)]
    producer.send(
        CHAT_INTENTS, name, NewIntent(event_id=name, event_time=datetime.now(UTC), intent=name, examples=examples)
    )
    producer.flush()
    env = {"STREAMSENSE_KAFKA_BOOTSTRAP": settings.bootstrap_servers}

    def feedback(intent: str) -> Result:
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(app, ["produce", "feedback", "are dogs allowed ?", intent], env=env)
        finally:
            get_settings.cache_clear()

    added, misspelled, unknown = feedback(name), feedback(name.lower()), feedback(f"Taxi-Pets-{name}")
    assert added.exit_code == 0 and f"sent feedback {name}" in added.output
    assert misspelled.exit_code == 2 and f"did you mean {name}?" in misspelled.output
    assert unknown.exit_code == 2 and "add it with `streamsense produce intent` first" in unknown.output
