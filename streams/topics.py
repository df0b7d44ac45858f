"""Every topic and index name, in one place; nothing else spells them."""

from dataclasses import dataclass

CHAT_MESSAGES = "chat.messages"
CHAT_DECISIONS = "chat.decisions"
CHAT_FEEDBACK = "chat.feedback"
CHAT_INTENTS = "chat.intents"
SENSOR_READINGS = "sensor.readings"
SENSOR_ALERTS = "sensor.alerts"
PAYMENTS_TRANSACTIONS = "payments.transactions"
PAYMENTS_LABELS = "payments.labels"
PAYMENTS_DECISIONS = "payments.decisions"
PAYMENTS_SCORING = "payments.scoring"
PAYMENTS_TERMINAL_LABELS = "payments.labels.by-terminal"
DRIFT_REPORTS = "drift.reports"

DECISION_INDEX_PREFIX = "streamsense-decisions-"
DLQ_INDEX = "streamsense-dlq"
DRIFT_INDEX = "streamsense-drift"
LABEL_INDEX_PREFIX = "streamsense-labels-"
AWAITING_LABELS_INDEX = "streamsense-fraud-awaiting-labels"


def label_index(stream: str) -> str:
    """Where a stream's decisions are stored again once their true outcome is known (performance drift)."""
    return f"{LABEL_INDEX_PREFIX}{stream}"


def dlq_topic(topic: str) -> str:
    """The dead-letter topic of an input topic."""
    return f"{topic}.dlq"


@dataclass(frozen=True)
class StreamSpec:
    """One decision stream: what it reads, where it writes decisions, where it logs them.

    ``internal`` topics carry events between the stream's own stages, re-keyed for the stage that owns the key.
    """

    name: str
    inputs: tuple[str, ...]
    decisions: str
    internal: tuple[str, ...] = ()

    @property
    def index(self) -> str:
        return f"{DECISION_INDEX_PREFIX}{self.name}"

    @property
    def app_id(self) -> str:
        return f"streamsense-{self.name}"


STREAMS: dict[str, StreamSpec] = {
    "payments": StreamSpec(
        "payments",
        (PAYMENTS_TRANSACTIONS, PAYMENTS_LABELS),
        PAYMENTS_DECISIONS,
        (PAYMENTS_SCORING, PAYMENTS_TERMINAL_LABELS),
    ),
    "chat": StreamSpec("chat", (CHAT_MESSAGES, CHAT_FEEDBACK, CHAT_INTENTS), CHAT_DECISIONS),
    "sensors": StreamSpec("sensors", (SENSOR_READINGS,), SENSOR_ALERTS),
}


BROKER_DATED = {"message.timestamp.type": "LogAppendTime"}
"""The config of every topic a worker consumes: the broker dates its messages, so that an event dated too far ahead
is judged against the time it was written, by every worker whenever it reads it. A worker that replays a topic
after a crash, or starts later, must refuse exactly what the live ones refused; against its own clock, it would
admit an event the live worker refused an hour earlier."""

BROADCAST_INPUTS: dict[str, dict[str, str]] = {
    CHAT_INTENTS: {"cleanup.policy": "delete", "retention.ms": "-1", **BROKER_DATED},
    CHAT_FEEDBACK: {"cleanup.policy": "delete", "retention.ms": "-1", **BROKER_DATED},
}
"""Input topics that every worker of the stream reads whole at start, with the topic config that keeps what a
restarted one must read again: every event, since each changed the model, and a restarted worker must replay them
in the order the live ones met them (with only each intent's latest version, feedback written before it would
find no intent at replay, where the live workers had learned it)."""


def config_for(topic: str) -> dict[str, str]:
    """The config ``ensure_topics`` gives ``topic``: broker-dated if a worker consumes it, kept for ever if every
    worker reads it whole; the broker's defaults otherwise."""
    if topic in BROADCAST_INPUTS:
        return BROADCAST_INPUTS[topic]
    consumed = {t for spec in STREAMS.values() for t in (*spec.inputs, *spec.internal)}
    return dict(BROKER_DATED) if topic in consumed else {}


def all_topics() -> list[str]:
    """Every topic the system uses, dead-letter topics included."""
    topics: list[str] = []
    for spec in STREAMS.values():
        consumed = (*spec.inputs, *spec.internal)
        topics += [*consumed, spec.decisions, *(dlq_topic(t) for t in consumed)]
    return [*topics, DRIFT_REPORTS]
