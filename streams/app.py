"""The Faust application of one stream's worker, configured from settings."""

import importlib.util

import faust

from streamsense.settings import Settings
from streamsense.streams.connections import faust_credentials
from streamsense.streams.consumer import Transport
from streamsense.streams.topics import StreamSpec


def table_store(settings: Settings) -> str:
    """RocksDB (via rocksdict) where installed and asked for, else memory; both recover from changelogs."""
    if settings.table_store == "rocksdb" and importlib.util.find_spec("rocksdict") is not None:
        return "rocksdb://"
    return "memory://"


class App(faust.App):
    """A Faust app whose consumer keeps exact offsets and fetches as settings say (``streams.consumer``)."""

    fetch_min_bytes: int = 1
    fetch_max_wait_ms: int = 500

    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)


def create_app(spec: StreamSpec, settings: Settings, web_port: int | None = None) -> App:
    """One Faust app per stream kind, so each kind scales (and rebalances) on its own."""
    datadir = settings.state_dir / "faust" / spec.app_id
    datadir.mkdir(parents=True, exist_ok=True)
    app = App(
        spec.app_id,
        broker=f"kafka://{settings.bootstrap_servers}",
        broker_credentials=faust_credentials(settings),
        store=table_store(settings),
        datadir=str(datadir),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger=settings.producer_linger_s,
        producer_max_batch_size=settings.producer_max_batch_bytes,
        broker_commit_interval=1.0,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.session_timeout_s / 5,
        stream_buffer_maxsize=settings.batch_size * 4,
        web_enabled=True,
        web_bind="0.0.0.0",
        web_port=web_port or settings.worker_web_port,
        autodiscover=False,
        table_cleanup_interval=60.0,
        table_standby_replicas=settings.table_standby_replicas,
    )
    # Table writes queue in the producer's buffer; past ``max_messages`` Faust stops delivering messages to the
    # streams and drains it with a 0.1 s wait per message. A batch writes a few entries per event, so the limit
    # is a few batches' worth rather than Faust's 100.
    app.producer.buffer.max_messages = settings.batch_size * 20
    app.fetch_min_bytes = settings.consumer_fetch_min_bytes
    app.fetch_max_wait_ms = settings.consumer_fetch_max_wait_ms
    return app
