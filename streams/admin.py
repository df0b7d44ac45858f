"""Creates the topics with the configured partition count before workers or producers use them."""

import logging
import time

from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic, ResourceType

from streamsense.settings import Settings
from streamsense.streams.connections import ConnectionSetupError, kafka_config, kafka_failure
from streamsense.streams.topics import all_topics, config_for

log = logging.getLogger(__name__)


def connect_admin(settings: Settings, timeout_s: float = 30.0) -> tuple[AdminClient, set[str]]:
    """An admin client that has reached the broker, and the topics there.

    A refused credential or certificate raises ``ConnectionSetupError`` at once with one line, instead of
    librdkafka logging the same failure on every reconnect until a timeout.
    """
    fatal: list[str] = []

    def on_error(error: KafkaError) -> None:
        message = kafka_failure(error, settings)
        if message:
            fatal.append(message)

    admin = AdminClient({**kafka_config(settings), "error_cb": on_error, "log_level": 0})
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return admin, set(admin.list_topics(timeout=1.0).topics)
        except KafkaException as error:
            admin.poll(0)
            if fatal:
                raise ConnectionSetupError(fatal[0]) from None
            if time.monotonic() > deadline:
                raise ConnectionSetupError(f"kafka at {settings.bootstrap_servers} did not answer: {error}") from None


def partition_count(settings: Settings, topic: str, timeout_s: float = 30.0) -> int:
    """How many partitions ``topic`` has (0 if it does not exist)."""
    admin, existing = connect_admin(settings, timeout_s)
    if topic not in existing:
        return 0
    return len(admin.list_topics(topic, timeout=timeout_s).topics[topic].partitions)


def topic_ids(settings: Settings, topics: list[str], timeout_s: float = 30.0) -> dict[str, str]:
    """Kafka's id of each topic: a topic deleted and created under the same name gets a new one."""
    admin, _ = connect_admin(settings, timeout_s)
    futures = admin.describe_topics(TopicCollection(topics), request_timeout=timeout_s)
    return {name: str(future.result(timeout=timeout_s).topic_id) for name, future in futures.items()}


def ensure_topics(
    settings: Settings, topics: list[str] | None = None, config: dict[str, str] | None = None, timeout_s: float = 30.0
) -> list[str]:
    """Create missing topics (idempotent) with ``config``, by default each topic's own (``config_for``); returns
    the names that were created.

    An existing topic whose settings differ from its config is altered to match: a table changelog created without
    compaction (by an earlier release) deletes state older than the retention, which a restart would then miss.
    """
    admin, existing = connect_admin(settings, timeout_s)
    wanted = topics or all_topics()
    configs = {t: config or config_for(t) for t in wanted}
    missing = [t for t in wanted if t not in existing]
    for entries in {tuple(c.items()) for c in configs.values() if c}:
        same = [t for t in wanted if t in existing and tuple(configs[t].items()) == entries]
        align_configs(admin, same, dict(entries), timeout_s)
    if not missing:
        return []
    futures = admin.create_topics(
        [
            NewTopic(
                t,
                num_partitions=settings.topic_partitions,
                replication_factor=settings.topic_replication,
                config=configs[t],
            )
            for t in missing
        ],
        operation_timeout=timeout_s,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result(timeout=timeout_s)
            created.append(name)
        except KafkaException as error:
            if error.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
    return created


def align_configs(admin: AdminClient, topics: list[str], config: dict[str, str], timeout_s: float) -> None:
    """Set the entries of ``config`` that differ on each of ``topics`` (an incremental alter leaves the rest)."""
    if not topics:
        return
    resources = [ConfigResource(ResourceType.TOPIC, t) for t in topics]
    changes = []
    for resource, future in admin.describe_configs(resources, request_timeout=timeout_s).items():
        current = future.result(timeout=timeout_s)
        differing = {k: v for k, v in config.items() if k not in current or current[k].value != v}
        for key, value in differing.items():
            was = current[key].value if key in current else None
            log.warning("topic %s: %s was %s, set to %s", resource.name, key, was, value)
        if differing:
            entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in differing.items()]
            changes.append(ConfigResource(ResourceType.TOPIC, resource.name, incremental_configs=entries))
    if changes:
        for future in admin.incremental_alter_configs(changes, request_timeout=timeout_s).values():
            future.result(timeout=timeout_s)
