"""Builds and runs the worker of one stream: topics, templates, Faust app, agents."""

import gc
import importlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import faust
from pydantic import SecretStr

from streamsense.settings import Settings
from streamsense.streams.admin import ensure_topics
from streamsense.streams.app import create_app
from streamsense.streams.connections import security_environment
from streamsense.streams.decision_log import DecisionLog, install_templates
from streamsense.streams.drift_schedule import install_drift_timer
from streamsense.streams.metrics import WorkerMetrics
from streamsense.streams.processing import BatchProcessor
from streamsense.streams.readiness import install_readiness
from streamsense.streams.retention import install_retention_timer
from streamsense.streams.topics import STREAMS


def build_worker(stream: str, settings: Settings, web_port: int | None = None) -> faust.App:
    """A ready Faust app for ``stream``; topics and index templates exist before it consumes anything."""
    spec = STREAMS[stream]
    ensure_topics(settings)
    install_templates(settings)
    app = create_app(spec, settings, web_port)
    metrics = WorkerMetrics()
    metrics.install(app, (*spec.inputs, *spec.internal))
    install_readiness(app)
    decision_log = DecisionLog(settings, metrics)
    processor = BatchProcessor(app, spec, settings, decision_log, metrics)
    importlib.import_module(f"streamsense.agents.{stream}").install(app, processor)
    install_drift_timer(app, stream, settings, metrics)
    install_retention_timer(app, spec, settings, decision_log)
    # Changelogs exist, compacted and co-partitioned, before the first table write needs them.
    changelogs = [table.changelog_topic.get_topic_name() for table in app.tables.values()]
    ensure_topics(settings, changelogs, config=changelog_config(settings))
    return app


def changelog_config(settings: Settings) -> dict[str, str]:
    """Compacted, with segments that close often enough for the cleaner to drop overwritten entries, cleaned within
    a bounded time, and tombstones kept briefly: the tables overwrite their keys on every batch and delete what
    expires, and a restart replays everything compaction has not removed."""
    return {
        "cleanup.policy": "compact",
        "segment.ms": str(settings.changelog_segment_ms),
        "max.compaction.lag.ms": str(settings.changelog_compaction_lag_ms),
        "delete.retention.ms": str(settings.changelog_tombstone_ms),
    }


def run_worker(stream: str, settings: Settings, web_port: int | None = None, loglevel: str = "info") -> None:
    app = build_worker(stream, settings, web_port)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    # Faust's start-up spinner sets the root logger to DEBUG for good, so that every debug call of Faust and
    # aiokafka built a log record that no handler printed (about 6% of a payments worker's time under load).
    worker.spinner = None
    # Models and modules live as long as the process: out of the collector's sight, full collections stay short.
    # Tables hold many long-lived objects too; fewer, larger young collections and rarer full ones (a full one
    # took 0.5-2 s on a payments worker's recovered tables).
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    worker.execute_from_commandline()


def worker_environment(settings: Settings) -> dict[str, str]:
    """The environment that makes a child worker use the same settings as ``settings``: every field set explicitly,
    the broker, node and security settings, and a state folder of its own below ``settings.state_dir``."""
    env = dict(os.environ)
    for name in settings.model_fields_set:
        value = getattr(settings, name)
        if value is None:  # unset in the child too (every optional field defaults to None), not the string "null"
            env.pop(f"STREAMSENSE_{name.upper()}", None)
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"STREAMSENSE_{name.upper()}"] = value if isinstance(value, str) else _env_value(value)
    env.update(security_environment(settings))
    env.update(
        STREAMSENSE_KAFKA_BOOTSTRAP=settings.bootstrap_servers,
        STREAMSENSE_ES_URL=settings.elasticsearch_url,
        STREAMSENSE_STATE_DIR=str(settings.state_dir / "workers"),
        STREAMSENSE_CACHE_DIR=str(settings.cache_dir),
    )
    return env


def _env_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | Path):
        return str(value)
    return json.dumps(value, default=str)


def free_port() -> int:
    """A port nothing listens on now, for a worker's web server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn_worker(
    stream: str,
    settings: Settings,
    web_port: int,
    log_path: Path,
    loglevel: str = "warning",
    extra_env: Mapping[str, str] | None = None,
    name: str | None = None,
) -> subprocess.Popen:
    """Start a worker in its own process (as in production: it can be killed and restarted on its own);
    ``extra_env`` is set on top of the settings' environment; ``name`` is its ``worker_name``, so that the next
    worker of that name reads its tables from disk."""
    cmd = [sys.executable, "-m", "streamsense", "worker", "run", "--stream", stream]
    cmd += ["--web-port", str(web_port), "--loglevel", loglevel]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**worker_environment(settings), **(extra_env or {})}
    if name is not None:
        env["STREAMSENSE_WORKER_NAME"] = name
    return subprocess.Popen(cmd, env=env, stdout=log_path.open("ab"), stderr=subprocess.STDOUT)
