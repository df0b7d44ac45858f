"""One settings object for the whole system, read from ``STREAMSENSE_*`` environment variables.

Defaults work on a developer machine: a local broker and node started by ``streamsense infra up``.
"""

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache_dir() -> Path:
    """Cache outside the repo tree; a root-owned home is not readable by the unprivileged Elasticsearch user."""
    if os.geteuid() == 0:
        return Path("/var/cache/streamsense")
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "streamsense"


def _default_state_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/streamsense")
    return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "streamsense"


Port = Annotated[int, Field(ge=1, le=65535)]
"""A TCP port to listen on or connect to."""


def http_url_problem(url: str, port_needed: bool = False) -> str | None:
    """Why ``url`` is not an http:// or https:// URL with a host (and, with ``port_needed``, a port where the scheme
    gives none: the Elasticsearch client takes 443 for https but no default for http), or None when it is one; the
    reason never repeats the URL, which may hold a password."""
    unreadable = "must be a URL whose host and port (1 to 65535) can be read, e.g. http://127.0.0.1:9200"
    if any(c.isspace() or not c.isprintable() for c in url):  # urlsplit drops them, the client refuses them
        return "must hold no spaces, tabs or other control characters (percent-encode them in a password)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port out of range or not a number, or a broken [IPv6] host
        return unreadable
    if port == 0:
        return unreadable
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:9200"
    if port_needed and port is None and parts.scheme == "http":
        return "an http:// URL needs its port, e.g. http://127.0.0.1:9200"
    return None


class Settings(BaseSettings):
    """Every tunable of StreamSense; override with ``STREAMSENSE_<NAME>`` (for example STREAMSENSE_KAFKA_PORT)."""

    # every float is finite: NaN compares false with any bound, and silently turned checks off
    model_config = SettingsConfigDict(env_prefix="STREAMSENSE_", extra="ignore", allow_inf_nan=False)

    # where things live
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="jars, data and trained artifacts")
    state_dir: Path = Field(default_factory=_default_state_dir, description="PIDs, logs and data of local services")

    # local infrastructure
    kafka_port: Port = 9092
    kafka_controller_port: Port = 9093
    kafka_heap: str = "512m"
    kafka_version: str = "4.1.1"
    es_port: Port = 9200
    es_transport_port: Port = 9300
    es_heap: str = "768m"
    es_version: str = "8.19.21"
    java_home: Path = Path("/usr/lib/jvm/java-17-openjdk-amd64")
    infra_start_timeout_s: float = Field(default=120.0, gt=0)

    # clients
    kafka_bootstrap: str | None = None
    es_url: str | None = Field(
        default=None, repr=False, description="https://... for a node behind TLS (a user:password in it is a secret)"
    )

    # security (streams/connections.py turns these into client configs; secrets stay SecretStr until then)
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = "SCRAM-SHA-256"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_ca_file: Path | None = Field(default=None, description="PEM CA bundle; the system's when unset")
    es_ca_file: Path | None = Field(default=None, description="PEM CA bundle for an https es_url")
    es_api_key: SecretStr | None = Field(default=None, description="the 'encoded' API key; wins over basic auth")
    es_username: str | None = None
    es_password: SecretStr | None = None
    log_redact_pii: bool = Field(
        default=True, description="redact e-mails, phone, card and IBAN numbers from free text in the decision log"
    )

    # streams
    topic_partitions: int = Field(default=12, ge=1)
    topic_replication: int = Field(default=1, ge=1)
    max_event_bytes: int = Field(default=64 * 1024, ge=1)
    max_event_ahead_s: float = Field(
        default=3600.0,
        ge=0,
        description="how far after the broker wrote it an input event may be dated; later ones are dead-lettered",
    )
    worker_web_port: Port = 6066
    table_store: Literal["rocksdb", "memory"] = Field(
        default="rocksdb",
        description="where tables live: 'rocksdb' keeps them on disk under the worker's data dir (with bounded "
        "memtables and caches, and a restarted worker reads only the changelog written since), 'memory' rebuilds "
        "them from the changelogs at every start",
    )
    worker_name: str = Field(
        default="",
        description="names this worker among its stream's workers on one host: its tables' data dir is named after "
        "it, so a worker restarted under the same name finds its RocksDB tables (default: its web port)",
    )
    table_write_buffer_bytes: int = Field(
        default=2 * 1024**2, ge=1, description="RocksDB memtable size, per table partition (two may be held at once)"
    )
    table_block_cache_bytes: int = Field(
        default=4 * 1024**2, ge=1, description="RocksDB block cache per table partition"
    )
    changelog_segment_ms: int = Field(
        default=300_000,
        ge=1,
        description="how soon a table changelog's segment closes, so that compaction can drop overwritten entries "
        "(Kafka's default waits a week or 1 GiB, and a restart replays all of it)",
    )
    changelog_tombstone_ms: int = Field(
        default=300_000,
        ge=0,
        description="how long compaction keeps a deleted table entry's tombstone (Kafka's default is a day, and a "
        "new worker replays every one of them); a replay slower than that may miss a tombstone and restore an "
        "expired entry, which the next expiry pass deletes again",
    )
    changelog_compaction_lag_ms: int = Field(
        default=300_000,
        ge=1,
        description="max.compaction.lag.ms of the table changelogs: a changelog whose oldest uncleaned record (in a "
        "closed segment) is older than this is cleaned whatever its dirty ratio; Kafka otherwise cleans a log only "
        "once its uncleaned part is half of it, and the expired entries and their tombstones stayed in every replay "
        "for ever longer stretches",
    )
    session_timeout_s: float = Field(default=10.0, gt=0, description="how soon a dead worker's partitions move on")
    stream_stall_log_s: float = Field(
        default=300.0,
        gt=0,
        description="a partition whose stream has taken no event for this long while records wait gets an error in"
        " the worker's log (Faust's stream_processing_timeout)",
    )
    producer_linger_s: float = Field(
        default=0.005, ge=0, description="how long the workers' producer waits to fill a batch (fewer, larger requests)"
    )
    producer_max_batch_bytes: int = Field(
        default=262_144, ge=1, description="largest batch per partition in one request"
    )
    consumer_fetch_min_bytes: int = Field(
        default=1,
        ge=1,
        description="a worker's fetch waits for this many bytes (or consumer_fetch_max_wait_ms); more than one "
        "byte with a short wait makes an idle worker poll the broker with empty fetches",
    )
    consumer_fetch_max_wait_ms: int = Field(default=500, ge=0, description="the longest a fetch waits for more bytes")
    agent_max_restarts: int = Field(
        default=5,
        ge=1,
        description="a worker whose agent crashed this many times within agent_restart_window_s exits with status 1, "
        "for its orchestrator to start a fresh process",
    )
    agent_restart_window_s: float = Field(default=300.0, gt=0)
    kafka_metadata_retry_max_ms: int = Field(
        default=1000,
        ge=1,
        description="the longest a worker's Kafka client waits between failed metadata updates (the wait doubles "
        "from 100 ms); also how soon a broker that is back is found",
    )
    batch_size: int = Field(default=200, ge=1)
    batch_within_s: float = Field(
        default=0.005,
        ge=0,
        description="how long a batch waits for its next event; while events keep coming it waits up to "
        "batch_max_wait_s after its first",
    )
    batch_max_wait_s: float = Field(
        default=0.02,
        ge=0,
        description="the longest a batch waits after its first event while more keep coming: on a backlog the "
        "stream hands events over in bursts, and batches cut at 5 ms after their first were small",
    )
    deliveries_in_flight: int = Field(
        default=16,
        ge=1,
        description="batches decided but not yet confirmed by Kafka and Elasticsearch, per agent: at paced rates "
        "batches are small and each waits for its acks and its bulk request, so few in flight queue the events",
    )
    es_retry_initial_s: float = Field(default=0.5, gt=0)
    es_retry_max_s: float = Field(default=10.0, gt=0)

    # decisions
    fraud_threshold: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="decides only while no trained fraud model fits the worker's features (the online model alone); "
        "a trained version decides with the threshold set on its validation period",
    )
    intent_threshold: float = Field(
        default=0.85, ge=0, le=1, description="below this top probability a message is 'uncertain'"
    )
    intent_top_k: int = Field(default=3, ge=1)
    table_standby_replicas: int = Field(
        default=0,
        ge=0,
        description="standby copies of each table partition on other workers: shorter hand-overs, but each worker"
        " also reads the changelogs it stands by for, which doubled a payments worker's CPU per transaction while"
        " they caught up (README, known limits), so none by default",
    )
    retention_days: float = Field(
        default=90.0,
        ge=0,
        description="decisions, labelled decisions and dead letters older than this leave Elasticsearch (0 keeps "
        "them for ever); labelled decisions stay at least fraud_label_wait_days",
    )
    retention_check_s: float = Field(
        default=3600.0, gt=0, description="how often a stream's leader deletes what aged out"
    )
    chat_idle_s: float = Field(
        default=6 * 3600.0,
        gt=0,
        description="a chat message this long (event time) after its conversation's last starts a new dialogue, and"
        " the table forgets conversations that silent",
    )
    chat_expiry_check_s: float = Field(
        default=60.0, gt=0, description="how often chat workers drop ended conversations"
    )
    chat_snapshot_s: float = Field(
        default=300.0,
        gt=0,
        description="how often a chat worker saves what it learned from new intents and feedback, so that a restart"
        " replays only the events after it",
    )
    sensor_idle_s: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="a sensor reading this long (event time) after its device's last starts the device over, cold,"
        " and the table forgets devices that silent",
    )
    sensor_expiry_check_s: float = Field(default=60.0, gt=0, description="how often sensor workers drop silent devices")
    fraud_currency_rates: dict[
        Annotated[str, Field(pattern=r"^[A-Z]{3}$")], Annotated[float, Field(gt=0, allow_inf_nan=False)]
    ] = Field(
        default={"EUR": 1.0},
        description='euros per unit of each currency the fraud model takes, as JSON (\'{"EUR": 1, "USD": 0.86}\'):'
        " the model learned euro amounts, so a transaction in a currency without a rate is dead-lettered; codes"
        " as transactions write them (three capitals), rates positive",
    )
    fraud_model_check_s: float = Field(default=30.0, ge=0, description="how often workers look for a newer fraud model")
    fraud_label_wait_days: float = Field(
        default=35.0,
        gt=0,
        description="how long a scored transaction's features wait for its label (in Elasticsearch) before they expire",
    )
    fraud_recent_s: float = Field(
        default=300.0,
        ge=0,
        description="how long a scored transaction also stays in the worker's tables (after its offset is committed) "
        "so that a redelivered event repeats its decision and an early label is learned without Elasticsearch; "
        "what waits longer for its label is read from Elasticsearch, so a new worker replays only this much",
    )
    fraud_early_label_wait_s: float = Field(
        default=86_400.0,
        gt=0,
        description="how long a label that arrives before its transaction waits for it in the worker's tables; then"
        " it is dead-lettered (no_transaction)",
    )
    fraud_expiry_check_s: float = Field(default=60.0, gt=0, description="how often workers expire what waited too long")
    fraud_retrain_every_s: float = Field(
        default=3600.0,
        ge=0,
        description="how often a payments worker retrains XGBoost from the labels it learned; 0 = off",
    )
    fraud_snapshot_s: float = Field(
        default=60.0,
        gt=0,
        description="how often a payments worker saves its online model and global feature state in its data dir, "
        "which a restart takes up (what it learned after the last save is lost with it)",
    )
    fraud_retrain_min_labels: int = Field(
        default=1000, ge=0, description="new labels needed before the next retraining"
    )
    fraud_retrain_min_frauds: int = Field(
        default=100,
        ge=1,
        description="frauds that each of a retraining's training and validation parts must hold, or it publishes "
        "nothing: a threshold set on fewer validation frauds reads a wider spread of precision on later traffic "
        "(eval fraud, threshold_by_validation_frauds)",
    )
    fraud_retrain_rows: int = Field(
        default=200_000,
        ge=1,
        description="latest labelled rows kept for retraining (on disk, in the worker's data dir)",
    )

    # drift
    drift_interval_s: float = Field(
        default=0.0, ge=0, description="how often a worker runs the drift job for its stream; 0 = off"
    )
    drift_window_s: float = Field(
        default=3600.0, gt=0, description="current window length; the reference is the one before"
    )
    drift_windows_end: Literal["now", "newest"] = Field(
        default="now",
        description="where the scheduled drift job's windows end: now, or at the stream's newest decision (traffic"
        " dated in another time than now: a replay, the simulators' 2026 dates)",
    )
    drift_min_docs: int = Field(default=100, ge=1, description="windows with fewer decisions are not compared")
    drift_max_categories: int = Field(
        default=50, ge=1, description="keyword features with more values are ids, not compared"
    )
    drift_sample_size: int = Field(
        default=500, ge=1, description="documents per window sampled for adversarial validation"
    )
    kibana_url: str = "http://127.0.0.1:5601"

    @field_validator("es_url")
    @classmethod
    def _es_url_is_http(cls, url: str | None) -> str | None:
        """The Elasticsearch client's URL, refused here rather than as a traceback at its first request."""
        if url is not None and (problem := http_url_problem(url, port_needed=True)):
            raise ValueError(problem)
        return url

    @field_validator("kibana_url")
    @classmethod
    def _kibana_url_is_http(cls, url: str) -> str:
        """``kibana import``'s default target, which urllib takes only as http(s)."""
        if problem := http_url_problem(url):
            raise ValueError(problem)
        return url

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap or f"127.0.0.1:{self.kafka_port}"

    @property
    def elasticsearch_url(self) -> str:
        return self.es_url or f"http://127.0.0.1:{self.es_port}"

    @property
    def artifact_dir(self) -> Path:
        return self.cache_dir / "artifacts"

    @property
    def data_dir(self) -> Path:
        return self.cache_dir / "data"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings(...)`` instead of mutating this one."""
    return Settings()
