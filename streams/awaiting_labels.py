"""What a scored transaction needs when its label arrives, kept in Elasticsearch until then.

A fraud label comes days or weeks after its transaction. Kept in the worker's Faust tables for that long, one entry
per transaction, a new worker replayed every entry from the changelogs before deciding anything: minutes at a few
hundred transactions a second, growing with rate times label delay (``bench/recovery.py``). The tables now keep a
transaction only for a short window (``fraud_recent_s``); the entry is also indexed here, in the same bulk request as
its decision (so it is stored before the transaction's offset is committed), and a later label reads it back by id.
Gets by id are real-time in Elasticsearch: no refresh needed.
"""

from typing import Any

from streamsense.streams.decision_log import DecisionLog
from streamsense.streams.retention import delete_matching
from streamsense.streams.topics import AWAITING_LABELS_INDEX


def awaiting_action(transaction_id: str, entry: dict[str, Any]) -> dict:
    """The bulk action that stores ``entry`` (a dict with the scoring time ``at``), idempotently under its id."""
    return {"_op_type": "index", "_index": AWAITING_LABELS_INDEX, "_id": transaction_id, "_source": entry}


def _learned(label: dict[str, Any]) -> dict[str, bool]:
    """``fraud``, the label a transaction's labelled decision holds, where it is found and holds one."""
    positive = label.get("_source", {}).get("positive") if label.get("found") else None
    return {} if positive is None else {"fraud": positive}


class AwaitingLabels:
    """Reads entries back by transaction id and deletes those that waited too long."""

    def __init__(self, decision_log: DecisionLog, labels_index: str) -> None:
        self.log = decision_log
        self.labels_index = labels_index

    async def fetch(self, transaction_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored entries of ``transaction_ids`` (those found), each with ``labelled``: whether the transaction's
        labelled decision is in the label index already (a label sent twice, the second long after the first), and
        then ``fraud``, the label it was learned with. Waits while Elasticsearch is unreachable."""
        if not transaction_ids:
            return {}
        ids = list(dict.fromkeys(transaction_ids))
        docs = [{"_index": AWAITING_LABELS_INDEX, "_id": i} for i in ids]
        docs += [{"_index": self.labels_index, "_id": i, "_source": ["positive"]} for i in ids]
        response = await self.log.until_answered(
            lambda: self.log.client.mget(docs=docs, realtime=True), f"reading {len(ids)} awaiting labels"
        )
        found = response.body["docs"]
        entries, labelled = found[: len(ids)], found[len(ids) :]
        return {
            entry["_id"]: {**entry["_source"], "labelled": bool(label.get("found")), **_learned(label)}
            for entry, label in zip(entries, labelled, strict=True)
            if entry.get("found")
        }

    async def expire(self, before: float) -> int:
        """Delete the entries scored before ``before`` (epoch seconds); returns how many."""
        return await delete_matching(self.log, AWAITING_LABELS_INDEX, {"range": {"at": {"lt": before}}})
