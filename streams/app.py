"""The Faust application of one stream's worker, configured from settings."""

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import faust
from faust.sensors import Sensor
from faust.types import TP, AppT, EventT, StreamT
from mode import ServiceT

from streamsense.settings import Settings
from streamsense.streams.connections import faust_credentials
from streamsense.streams.supervision import agent_supervisor
from streamsense.streams.table_recovery import TableManager
from streamsense.streams.table_store import Table
from streamsense.streams.topics import StreamSpec
from streamsense.streams.transport import Transport


def table_options(settings: Settings) -> dict[str, Any]:
    """RocksDB options for one table: each table partition is its own database with its own memtables and block
    cache, so Faust's defaults (64 MiB memtables, 2 GiB cache each) would let a worker's dozens of them grow to
    gigabytes."""
    return {
        "driver": "rocksdict",
        "write_buffer_size": settings.table_write_buffer_bytes,
        "max_write_buffer_number": 2,
        "block_cache_size": settings.table_block_cache_bytes,
    }


class App(faust.App):
    """A Faust app whose consumer keeps exact offsets and fetches as settings say (``streams.consumer``), and whose
    Kafka clients space their failed metadata updates (``streams.metadata_backoff``)."""

    fetch_min_bytes: int = 1
    fetch_max_wait_ms: int = 500
    metadata_retry_max_s: float = 1.0
    table_options: Mapping[str, Any] = MappingProxyType({})

    def Table(self, name: str, **kwargs: Any) -> faust.types.TableT:
        """A table with this app's store options (a copy each: Faust's RocksDB store pops keys out of them)."""
        kwargs.setdefault("options", dict(self.table_options))
        return super().Table(name, **kwargs)

    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)

    def on_init_dependencies(self) -> Iterable[ServiceT]:
        """Faust's services, less its Monitor sensor, which records every message received and sent for Faust's own
        web views (its calls were 2.6% of a payments worker's samples with py-spy ``--gil`` on a backlog); the
        worker's Prometheus metrics (``streams/metrics.py``) are its monitoring."""
        services = super().on_init_dependencies()
        self.sensors.remove(self.monitor)
        self.sensors.add(StreamInbound(self.monitor.stream_inbound_time))
        return services


class StreamInbound(Sensor):
    """Keeps the one record of Faust's Monitor that its consumer checks: when each partition's stream last took an
    event. Every 2.5 s Faust's consumer looks at each partition with records waiting, and logs an error for one
    whose stream has taken nothing for ``stream_processing_timeout`` (5 minutes); with the Monitor gone and these
    times never written, a worker up for 5 minutes logged that error for each partition that had records waiting
    when it looked, at every look (531, 269 and 27 times in a 10-minute soak of a payments, a sensors and a chat
    worker at 80, 150 and 30 events/s). ``STREAMSENSE_STREAM_STALL_LOG_S`` sets that time.

    Faust also keeps each sensor's state through a rebalance, and warns at every rebalance when there is none."""

    def __init__(self, times: dict[TP, float]) -> None:
        super().__init__()
        self.times = times

    def on_stream_event_in(self, tp: TP, offset: int, stream: StreamT, event: EventT) -> None:
        self.times[tp] = time.monotonic()

    def on_rebalance_start(self, app: AppT) -> dict:
        """Partitions may move: a partition's time counts from its stream's first event after the rebalance."""
        self.times.clear()
        return {}


def worker_datadir(state_dir: Path, spec: StreamSpec, name: str) -> Path:
    """Where the worker called ``name`` keeps its tables under ``state_dir`` (its own settings' state folder)."""
    return state_dir / "faust" / spec.app_id / name


def create_app(spec: StreamSpec, settings: Settings, web_port: int | None = None) -> App:
    """One Faust app per stream kind, so each kind scales (and rebalances) on its own."""
    # one data dir per worker: a RocksDB table partition can be open in one process only, and a worker restarted
    # under the same name finds its tables where it left them
    datadir = worker_datadir(
        settings.state_dir, spec, settings.worker_name or f"port-{web_port or settings.worker_web_port}"
    )
    datadir.mkdir(parents=True, exist_ok=True)
    app = App(
        spec.app_id,
        broker=f"kafka://{settings.bootstrap_servers}",
        broker_credentials=faust_credentials(settings),
        store=f"{settings.table_store}://",  # either way the tables' changelogs in Kafka are the truth
        Table=Table,
        TableManager=TableManager,
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
        stream_processing_timeout=settings.stream_stall_log_s,
        stream_buffer_maxsize=settings.batch_size * 4,
        web_enabled=True,
        web_bind="0.0.0.0",
        web_port=web_port or settings.worker_web_port,
        autodiscover=False,
        table_cleanup_interval=60.0,
        table_standby_replicas=settings.table_standby_replicas,
        agent_supervisor=agent_supervisor(settings.agent_max_restarts, settings.agent_restart_window_s),
    )
    # Table writes queue in the producer's buffer; past ``max_messages`` Faust stops delivering messages to the
    # streams and drains it with a 0.1 s wait per message. A batch writes a few entries per event, so the limit
    # is a few batches' worth rather than Faust's 100.
    app.producer.buffer.max_messages = settings.batch_size * 20
    app.table_options = table_options(settings) if settings.table_store == "rocksdb" else {}
    app.fetch_min_bytes = settings.consumer_fetch_min_bytes
    app.fetch_max_wait_ms = settings.consumer_fetch_max_wait_ms
    app.metadata_retry_max_s = settings.kafka_metadata_retry_max_ms / 1000
    return app
