"""Creates the topics with the configured partition count before workers or producers use them."""

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from streamsense.settings import Settings
from streamsense.streams.topics import all_topics


def ensure_topics(
    settings: Settings, topics: list[str] | None = None, config: dict[str, str] | None = None, timeout_s: float = 30.0
) -> list[str]:
    """Create missing topics (idempotent); returns the names that were created."""
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    wanted = topics or all_topics()
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    missing = [t for t in wanted if t not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [
            NewTopic(t, num_partitions=settings.topic_partitions, replication_factor=settings.topic_replication)
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
