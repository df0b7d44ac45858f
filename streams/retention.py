"""Old documents leave Elasticsearch: a stream's decisions, labelled decisions and dead letters older than
``retention_days``.

Without it the decision indices grow with the traffic for ever. The node we test on has no index lifecycle
management (x-pack) and no ``_delete_by_query`` (its distribution lacks the reindex module), so the worker deletes
them itself: it searches a chunk of ids and deletes them in one bulk request, until none is left. Only the group's
leader runs it, once per ``retention_check_s``; a failed run is logged and tried again at the next tick.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import faust

from streamsense.settings import Settings
from streamsense.streams.decision_log import DecisionLog
from streamsense.streams.topics import DLQ_INDEX, StreamSpec, label_index

log = logging.getLogger(__name__)


async def delete_matching(decision_log: DecisionLog, index: str, query: dict[str, Any], chunk: int = 5_000) -> int:
    """Delete every document of ``index`` that ``query`` matches; returns how many. Refreshes first, so that what
    was indexed a moment ago is found too. An index not created yet holds nothing to delete."""
    client = decision_log.client
    await decision_log.until_answered(
        lambda: client.indices.refresh(index=index, ignore_unavailable=True), f"refreshing {index}"
    )
    deleted, delay = 0, decision_log.settings.es_retry_initial_s
    while True:
        found = await decision_log.until_answered(
            lambda: client.search(index=index, query=query, size=chunk, source=False, ignore_unavailable=True),
            f"finding old {index} docs",
        )
        ids = [hit["_id"] for hit in found.body["hits"]["hits"]]
        if not ids:
            return deleted
        body = [{"delete": {"_index": index, "_id": i}} for i in ids]
        response = await decision_log.until_answered(
            lambda body=body: client.bulk(operations=body, refresh=True), f"deleting {len(ids)} {index} docs"
        )
        results = [item["delete"] for item in response.body["items"]]
        done = sum(1 for result in results if result.get("result") in ("deleted", "not_found"))
        if not done:
            # every delete refused (an overloaded or read-only node): searching again at once would only repeat it
            raise RuntimeError(f"none of {len(ids)} old {index} docs could be deleted: {results[0].get('error')}")
        deleted += sum(1 for result in results if result.get("result") == "deleted")
        if done < len(ids):
            # some refused (a node shedding load): the next pass would find them again at once
            refused = len(ids) - done
            log.warning("%d of %d old %s docs refused; searching again in %.1fs", refused, len(ids), index, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, decision_log.settings.es_retry_max_s)


async def expire_stream(
    decision_log: DecisionLog, spec: StreamSpec, before: datetime, labels_before: datetime | None = None
) -> int:
    """Delete ``spec``'s decisions decided before ``before``, its labelled decisions (copies of decisions with their
    outcome and audit attributes; until stop 34 they stayed for ever) logged before it (those written before
    ``logged_at`` existed: labelled before it; both before ``labels_before`` when given), and its dead letters
    that failed before it."""
    cutoff, label_cutoff = before.isoformat(), (labels_before or before).isoformat()
    decided = await delete_matching(decision_log, spec.index, {"range": {"decided_at": {"lt": cutoff}}})
    unlogged = {
        "bool": {
            "must_not": {"exists": {"field": "logged_at"}},
            "filter": {"range": {"labelled_at": {"lt": label_cutoff}}},
        }
    }
    logged = {"bool": {"should": [{"range": {"logged_at": {"lt": label_cutoff}}}, unlogged], "minimum_should_match": 1}}
    labelled = await delete_matching(decision_log, label_index(spec.name), logged)
    topics = [*spec.inputs, *spec.internal]
    letters = {"bool": {"filter": [{"terms": {"source_topic": topics}}, {"range": {"failed_at": {"lt": cutoff}}}]}}
    return decided + labelled + await delete_matching(decision_log, DLQ_INDEX, letters)


def install_retention_timer(app: faust.App, spec: StreamSpec, settings: Settings, decision_log: DecisionLog) -> bool:
    """Declare the timer on ``app`` when ``retention_days`` > 0; returns whether it did."""
    if settings.retention_days <= 0:
        return False

    @app.timer(interval=settings.retention_check_s, on_leader=True, name=f"{spec.name}-retention")
    async def retention_tick() -> None:
        now = datetime.now(UTC)
        before = now - timedelta(days=settings.retention_days)
        # a labelled decision is also the record that its label was learned: it outlives the label's wait, or a
        # label sent again while its transaction still waits would be learned twice
        labels_before = now - timedelta(days=max(settings.retention_days, settings.fraud_label_wait_days))
        try:
            deleted = await expire_stream(decision_log, spec, before, labels_before)
        except Exception:
            log.exception("retention for %s failed; next try in %.0fs", spec.name, settings.retention_check_s)
            return
        if deleted:
            log.info("retention: %d %s documents from before %s deleted", deleted, spec.name, before.isoformat())

    return True
