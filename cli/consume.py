"""``streamsense consume``: read a topic (decisions, dead letters) as JSON lines, for people and scripts."""

import time
import uuid

import orjson
import typer
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, Message, TopicPartition

from streamsense.settings import get_settings
from streamsense.streams.admin import partition_count
from streamsense.streams.connections import kafka_config


def message_line(message: Message) -> bytes:
    """One message as a JSON object: where it is, its key, its value (parsed where it is JSON) and its headers."""
    raw = message.value()
    try:
        value = None if raw is None else orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = raw.decode("utf-8", errors="replace")
    key = message.key()
    return orjson.dumps(
        {
            "topic": message.topic(),
            "partition": message.partition(),
            "offset": message.offset(),
            "key": None if key is None else key.decode("utf-8", errors="replace"),
            "value": value,
            "headers": {k: v.decode("utf-8", errors="replace") for k, v in message.headers() or []},
        }
    )


def consume(
    topic: str = typer.Argument(help="e.g. payments.decisions, sensor.alerts, chat.decisions, sensor.readings.dlq"),
    from_beginning: bool = typer.Option(False, "--from-beginning", help="from the oldest message kept, not from now"),
    max_messages: int = typer.Option(10, min=1, help="stop after this many messages"),
    timeout_s: float = typer.Option(10.0, min=0.0, help="stop after this many seconds without a message"),
) -> None:
    """Print a topic's messages as JSON lines (a dead letter's reason is in its headers); joins no consumer group,
    so it moves no worker's offsets."""
    settings = get_settings()
    # the admin client reaches the broker first: a refused credential is one line, not librdkafka's log of every retry
    partitions = partition_count(settings, topic, timeout_s=10)
    if not partitions:
        typer.echo(f"error: no topic {topic}", err=True)
        raise typer.Exit(2)
    consumer = Consumer(
        {
            **kafka_config(settings),
            "group.id": f"streamsense-consume-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "log_level": 0,
        }
    )
    try:
        start = OFFSET_BEGINNING if from_beginning else OFFSET_END
        consumer.assign([TopicPartition(topic, p, start) for p in range(partitions)])
        printed, quiet_since = 0, time.monotonic()
        while printed < max_messages and time.monotonic() - quiet_since < timeout_s:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            typer.echo(message_line(message).decode())
            printed, quiet_since = printed + 1, time.monotonic()
    finally:
        consumer.close()
