"""The decision log: every decision and dead letter goes to Elasticsearch, idempotently and without loss.

Writes are bulk requests with deterministic document ids (a replay overwrites, never duplicates); writes made while
a request is in flight share the next one (``streams/bulk_coalescer.py``).
A bulk that fails because Elasticsearch is unreachable or overloaded is retried with capped exponential
backoff for as long as it takes: the calling agent waits, stops consuming, and Kafka holds the backlog
(back-pressure instead of drops). Documents Elasticsearch rejects as invalid are returned to the caller.
Free text (chat decisions, dead-letter previews and reasons) is redacted of personal data on the way in,
unless ``log_redact_pii`` is off.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import orjson
from elastic_transport import OrjsonSerializer
from elasticsearch import ApiError, AsyncElasticsearch, Elasticsearch, TransportError
from elasticsearch import ConnectionError as ESConnectionError

from streamsense.schemas.base import Decision
from streamsense.settings import Settings
from streamsense.streams.bulk_coalescer import BulkCoalescer
from streamsense.streams.codec import encode
from streamsense.streams.connections import (
    ConnectionSetupError,
    elasticsearch_failure,
    elasticsearch_options,
    error_type,
    safe_url,
    write_blocked,
)
from streamsense.streams.dead_letters import DeadLetter
from streamsense.streams.index_templates import TEMPLATES
from streamsense.streams.metrics import WorkerMetrics
from streamsense.streams.redaction import redact, redact_fields
from streamsense.streams.topics import AWAITING_LABELS_INDEX, DECISION_INDEX_PREFIX, DLQ_INDEX, STREAMS

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# a whole request answered so is waited out: an overloaded node (429, a circuit breaker), one restarting (503), a
# proxy or load balancer in front of it (502, 504, 408); a 500 is left to raise, since a search can fail so for good
OVERLOADED_STATUS = {408, 429, 502, 503, 504}
# indices whose documents carry free text a person wrote, and the fields there that are never personal
FREE_TEXT_INDICES = frozenset({STREAMS["chat"].index, DLQ_INDEX})
STRUCTURAL_FIELDS = frozenset(
    {"event_id", "event_time", "decided_at", "stream", "key", "model", "label", "schema_version", "intent"}
    | {"feature", "knowledge", "source_topic", "failed_at", "kind"}
)


@dataclass(frozen=True)
class Rejected:
    """A document Elasticsearch refused for a reason retrying cannot fix (a mapping conflict, say). ``index`` with
    ``doc_id`` names it: a transaction's decision and its awaiting-label entry share the id."""

    index: str
    doc_id: str
    status: int
    reason: str


def decision_action(decision: Decision, encoded: bytes | None = None) -> dict:
    """The bulk action that logs ``decision``; ``encoded`` is its JSON when already encoded for Kafka (it is
    sent as it is, not encoded again)."""
    return {
        "_op_type": "index",
        "_index": f"{DECISION_INDEX_PREFIX}{decision.stream}",
        "_id": decision.event_id,
        "_source": encode(decision) if encoded is None else encoded,
    }


def passing(error: ApiError) -> bool:
    """Whether Elasticsearch refused a request for now (overloaded, writes blocked): waiting helps."""
    return error.meta.status in OVERLOADED_STATUS or write_blocked(error.body)


def dead_letter_action(letter: DeadLetter) -> dict:
    return {"_op_type": "index", "_index": DLQ_INDEX, "_id": letter.doc_id, "_source": letter.log_document()}


def source_bytes(source: bytes | dict) -> bytes:
    """A document's JSON: an already encoded source (a decision's Kafka value) as it is."""
    return source if isinstance(source, bytes) else orjson.dumps(source)


def bulk_body(actions: Iterable[dict]) -> bytes:
    """The NDJSON body of a bulk request that indexes ``actions``; a ``_source`` already encoded (a decision's
    Kafka value) goes in as it is.

    Built here rather than by the client's bulk helper, which copies and expands every action and builds a new
    client object per chunk, which showed in py-spy profiles of a payments worker at low rates.
    """
    lines = bytearray()
    for action in actions:
        lines += orjson.dumps({action["_op_type"]: {"_index": action["_index"], "_id": action["_id"]}})
        lines += b"\n"
        lines += source_bytes(action["_source"])
        lines += b"\n"
    return bytes(lines)


def redacted(action: dict) -> dict:
    """The action with personal data removed from its free text (chat decisions and dead letters only)."""
    if action["_index"] not in FREE_TEXT_INDICES:
        return action
    source = action["_source"]
    source = orjson.loads(source) if isinstance(source, bytes) else source
    return {**action, "_source": redact_fields(source, STRUCTURAL_FIELDS)}


class DecisionLog:
    """Async writer to Elasticsearch with templates, bulk batching, retries and back-pressure."""

    def __init__(self, settings: Settings, metrics: WorkerMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.client = AsyncElasticsearch(
            **elasticsearch_options(settings), request_timeout=30, max_retries=0, serializer=OrjsonSerializer()
        )
        self.bulks = BulkCoalescer(self._bulk)
        metrics.es_queue.set_function(lambda: self.bulks.waiting)

    async def _bulk(self, body: bytes) -> list[dict]:
        """One bulk request's items, retried while Elasticsearch is unreachable (the coalescer's ``send``)."""
        docs = body.count(b"\n") // 2
        response = await self.until_answered(lambda: self.client.bulk(operations=body, refresh=False), f"{docs} docs")
        return response.body["items"]

    async def write(self, actions: Iterable[dict]) -> list[Rejected]:
        """Index the actions; returns those rejected for good, after retrying everything retryable."""
        pending = [redacted(a) for a in actions] if self.settings.log_redact_pii else list(actions)
        rejected: list[Rejected] = []
        delay = self.settings.es_retry_initial_s
        why = ""
        while pending:
            retry: list[dict] = []
            items = await self.bulks.bulk(bulk_body(pending), len(pending))
            errors = False
            for action, item in zip(pending, items, strict=True):
                info = next(iter(item.values()))
                status = int(info.get("status", 0))
                if 200 <= status < 300:
                    continue
                errors = True
                if status in RETRYABLE_STATUS or write_blocked(info):
                    retry.append(action)
                    why = f"{status} {error_type(info)}"
                else:
                    reason = str(info.get("error"))[:500]
                    # a mapping error quotes the offending value, which may be personal data
                    rejected.append(
                        Rejected(
                            action["_index"],
                            action["_id"],
                            status,
                            redact(reason) if self.settings.log_redact_pii else reason,
                        )
                    )
            pending = retry
            if errors:
                self.metrics.es_errors.inc()
            if pending:
                log.warning("elasticsearch refused %d docs for now (%s); retrying in %.1fs", len(pending), why, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.es_retry_max_s)
        return rejected

    async def until_answered(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        """``call``'s answer, retried with capped exponential backoff while Elasticsearch is unreachable or
        overloaded (``OVERLOADED_STATUS``); a refused credential or certificate raises ``ConnectionSetupError`` at
        once."""
        delay = self.settings.es_retry_initial_s
        while True:
            try:
                return await call()
            except ApiError as error:
                fatal = elasticsearch_failure(error, self.settings)
                if fatal:
                    raise ConnectionSetupError(fatal) from None
                if not passing(error):
                    raise
                problem: object = f"HTTP {error.meta.status}"
            except (ESConnectionError, TransportError, OSError) as error:
                problem = error
            self.metrics.es_errors.inc()
            log.warning("elasticsearch unavailable (%s); retrying %s in %.1fs", problem, what, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.settings.es_retry_max_s)

    async def close(self) -> None:
        await self.client.close()


def apply_template(client: Elasticsearch, name: str) -> None:
    """Install the index template ``name`` and bring the existing indices it covers up to its mapping: indices made
    by an earlier release get the fields added since (a template only shapes new indices, and a strict mapping would
    refuse every document naming a new field)."""
    body = TEMPLATES[name]
    client.indices.put_index_template(name=name, **body)
    client.indices.put_mapping(
        index=",".join(body["index_patterns"]),
        allow_no_indices=True,
        ignore_unavailable=True,
        **body["template"]["mappings"],
    )


def install_templates(settings: Settings, wait_s: float = 120.0) -> None:
    """Install the index templates, bring existing indices' mappings up to them, and create the indices, before
    any worker writes (waits for Elasticsearch).

    A refused credential or certificate raises ``ConnectionSetupError`` at once: waiting would not help.
    """
    deadline = time.monotonic() + wait_s
    with Elasticsearch(**elasticsearch_options(settings), request_timeout=10, max_retries=0) as client:
        while True:
            try:
                for name in TEMPLATES:
                    apply_template(client, name)
                for index in [*(spec.index for spec in STREAMS.values()), DLQ_INDEX, AWAITING_LABELS_INDEX]:
                    if not client.indices.exists(index=index):
                        client.options(ignore_status=400).indices.create(index=index)
                return
            except (ESConnectionError, OSError, ApiError) as error:
                fatal = elasticsearch_failure(error, settings)
                if fatal:
                    raise ConnectionSetupError(fatal) from None
                if isinstance(error, ApiError) and not passing(error):
                    raise
                if time.monotonic() > deadline:
                    where = f"elasticsearch at {safe_url(settings.elasticsearch_url)}"
                    if isinstance(error, ApiError) and write_blocked(error.body):
                        raise ConnectionSetupError(
                            f"{where} blocks writes ({error}); lift the block "
                            "(cluster.blocks.read_only, index.blocks.write, or free disk below the flood stage)"
                        ) from None
                    raise ConnectionSetupError(f"{where} did not answer: {error}") from None
                log.warning("elasticsearch not ready for the index templates (%s); retrying", error)
                time.sleep(1.0)
