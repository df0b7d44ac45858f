"""What waits for a fraud label, on the real node: logged beside its decision, read back at once, expired by age."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch

from streamsense.settings import Settings
from streamsense.streams.awaiting_labels import AwaitingLabels, awaiting_action
from streamsense.streams.decision_log import DecisionLog, decision_action
from streamsense.streams.drift_labels import label_action
from streamsense.streams.metrics import WorkerMetrics
from streamsense.streams.topics import STREAMS, label_index

pytestmark = pytest.mark.integration


def test_an_entry_logged_beside_its_decision_is_read_back_at_once_with_its_label_if_labelled_and_expires_by_age(
    settings: Settings, es: Elasticsearch, payment_decision
) -> None:
    run = uuid.uuid4().hex[:10]
    old, new = f"{run}-old", f"{run}-new"
    when = datetime(2026, 4, 1, tzinfo=UTC)
    decision = payment_decision(new, when)

    async def scenario() -> tuple[list, dict, int, dict]:
        log = DecisionLog(settings, WorkerMetrics())
        awaiting = AwaitingLabels(log, label_index("payments"))
        try:
            rejected = await log.write(
                [
                    decision_action(decision),
                    awaiting_action(new, {"at": 2_000.0, "features": {"amount": 12.5}}),
                    awaiting_action(old, {"at": 1_000.0, "features": {"amount": 99.0}}),
                    label_action(decision.model_copy(update={"event_id": old}), "legit", when, False, {}),
                ]
            )
            found = await awaiting.fetch([old, new, f"{run}-never-scored", new])
            expired = await awaiting.expire(before=1_500.0)
            return rejected, found, expired, await awaiting.fetch([old, new])
        finally:
            await log.close()

    rejected, found, expired, after = asyncio.run(scenario())

    assert rejected == []
    assert found == {
        old: {"at": 1_000.0, "features": {"amount": 99.0}, "labelled": True, "fraud": False},
        new: {"at": 2_000.0, "features": {"amount": 12.5}, "labelled": False},
    }
    assert expired >= 1
    assert set(after) == {new}
    assert es.get(index=STREAMS["payments"].index, id=new)["_source"]["score"] == 0.5
