"""Labelled decisions: a decision stored again, with its true outcome, once that outcome is known.

Performance drift (AUC, accuracy per window) needs the score and the truth side by side; joining them
in Elasticsearch at query time is not possible with aggregations, so they are joined when the label
arrives and written to ``streamsense-labels-<stream>`` (id = the decision's event id, so idempotent).
"""

from datetime import UTC, datetime

from streamsense.schemas.base import Decision
from streamsense.streams.topics import label_index


def label_action(
    decision: Decision,
    actual: str,
    labelled_at: datetime,
    positive: bool | None = None,
    audit: dict[str, str] | None = None,
) -> dict:
    """A bulk action for the label index; ``positive`` is whether the truth is the positive class (for AUC);
    ``audit`` holds audit-only group attributes (never model features) for the fairness report. ``logged_at`` is
    the writer's clock, by which retention deletes it: the document also records that the label was learned, so it
    must outlive the transaction's awaiting entry, which expires by the clock of the worker that scored it."""
    source = {
        "event_id": decision.event_id,
        "event_time": decision.event_time.isoformat(),
        "labelled_at": labelled_at.isoformat(),
        "logged_at": datetime.now(UTC).isoformat(),
        "stream": decision.stream,
        "model": decision.model.model_dump(),
        "score": decision.score,
        "predicted": decision.label,
        "actual": actual,
        "correct": decision.label == actual,
    }
    if positive is not None:
        source["positive"] = positive
    if audit:
        source["audit"] = audit
    return {"_op_type": "index", "_index": label_index(decision.stream), "_id": decision.event_id, "_source": source}
