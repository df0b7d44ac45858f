"""Runs the drift job inside a worker on a Faust timer (``drift_interval_s``; 0 leaves it off).

Only the group's leader runs it, so several replicas of a stream's worker produce one report per period
(and only the leader exports the ``streamsense_drift_psi`` gauge: a worker that stops leading drops its series),
and it runs in a thread: the job waits on Elasticsearch and fits a small classifier, which must not stall
the event loop that consumes the stream. A failed run is logged and retried at the next tick, never
allowed to take the worker down.
"""

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import faust
from elasticsearch import Elasticsearch
from faust.types import TP

from streamsense.settings import Settings
from streamsense.streams.connections import elasticsearch_options
from streamsense.streams.drift_job import publish, run_drift, trailing_windows
from streamsense.streams.drift_query import newest_end
from streamsense.streams.metrics import WorkerMetrics
from streamsense.streams.topics import STREAMS

log = logging.getLogger(__name__)


def run_once(stream: str, settings: Settings, metrics: WorkerMetrics | None = None) -> int:
    """Compare the last ``drift_window_s`` of ``stream`` (before now, or before its newest decision:
    ``drift_windows_end``) with the window before it and publish; returns rows indexed.

    With ``metrics``, each feature's PSI also goes to the ``streamsense_drift_psi`` gauge that the alert rules watch,
    where its level counts (0 where the windows' counts do not differ beyond chance: the gauge would otherwise page on
    the noise of small windows that the report's levels leave out).
    """
    # one client for the tick: finding the end, comparing the windows and publishing
    with Elasticsearch(**elasticsearch_options(settings), request_timeout=60) as es:
        end = datetime.now(UTC)
        if settings.drift_windows_end == "newest" and (end := newest_end(es, STREAMS[stream].index)) is None:
            return 0
        reference, current = trailing_windows(settings.drift_window_s, end)
        runs = run_drift(settings, stream, reference, current, es)
        psi: dict[tuple[str, str], float] = {}
        for run in runs:
            log.info("drift %s/%s: level %s, crossed %s", run.stream, run.model, run.report.level, run.crossed)
            for row in run.report.features:
                if row.statistic == "psi":
                    psi[run.model, row.feature] = row.value if row.level != "ok" else 0.0
        if metrics is not None:
            metrics.set_drift_psi(psi)
        return publish(settings, runs, es)


def forget_psi_unless_leading(app: faust.App, metrics: WorkerMetrics) -> None:
    """Remove this worker's ``streamsense_drift_psi`` series unless it leads the group: only the leader runs the job,
    so a replica that stopped leading would export its last run's values beside the new leader's, for ever, and an
    alert on them would fire on a stale run of the wrong replica."""
    if not app.is_leader():
        metrics.set_drift_psi({})


async def drift_tick(app: faust.App, stream: str, settings: Settings, metrics: WorkerMetrics | None = None) -> None:
    """One run of the job, in a thread; a failure is logged and left to the next tick."""
    try:
        await asyncio.to_thread(run_once, stream, settings, metrics)
    except Exception:
        log.exception("drift job for %s failed; next try in %.0fs", stream, settings.drift_interval_s)
    if metrics is not None:
        forget_psi_unless_leading(app, metrics)  # a rebalance during the run may have moved the leadership


def _forget_psi_on_rebalance(app: faust.App, metrics: WorkerMetrics) -> None:
    """Leadership is decided in a rebalance (the leader is the worker assigned the leader topic's partition): on each
    new assignment a worker that no longer leads drops its PSI series at once, not at a tick it no longer runs."""

    @app.on_partitions_assigned.connect
    async def forget_psi(sender: faust.App, assigned: set[TP], **kwargs: Any) -> None:
        forget_psi_unless_leading(sender, metrics)


def install_drift_timer(app: faust.App, stream: str, settings: Settings, metrics: WorkerMetrics | None = None) -> bool:
    """Declare the timer on ``app`` when ``drift_interval_s`` > 0; returns whether it did. With ``metrics``, a worker
    that stops leading the group loses its ``streamsense_drift_psi`` series (``forget_psi_unless_leading``)."""
    if settings.drift_interval_s <= 0:
        return False
    if metrics is not None:
        _forget_psi_on_rebalance(app, metrics)

    @app.timer(interval=settings.drift_interval_s, on_leader=True, name=f"{stream}-drift")
    async def run_drift_tick() -> None:
        await drift_tick(app, stream, settings, metrics)

    return True
