"""Old decisions, labelled decisions and dead letters leave Elasticsearch, on the real node (it has no ILM and no
delete by query)."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch

from streamsense.settings import Settings
from streamsense.streams.dead_letters import DeadLetter
from streamsense.streams.decision_log import DecisionLog, dead_letter_action, decision_action
from streamsense.streams.drift_labels import label_action
from streamsense.streams.metrics import WorkerMetrics
from streamsense.streams.retention import delete_matching, expire_stream
from streamsense.streams.topics import DLQ_INDEX, PAYMENTS_TRANSACTIONS, SENSOR_READINGS, STREAMS, label_index

pytestmark = pytest.mark.integration
LONG_AGO = datetime(2001, 1, 1, tzinfo=UTC)
CUTOFF = datetime(2002, 1, 1, tzinfo=UTC)


def test_a_streams_decisions_labelled_decisions_and_dead_letters_older_than_the_cutoff_are_deleted_the_rest_kept(
    settings: Settings, es: Elasticsearch, payment_decision
) -> None:
    run = uuid.uuid4().hex[:10]
    now = datetime.now(UTC)

    def letter(topic: str, offset: int, failed_at: datetime) -> DeadLetter:
        return DeadLetter(topic, 0, offset, None, run.encode(), b"{", "malformed_json", "bad", failed_at)

    old_letter, other_stream, new_letter = (
        letter(PAYMENTS_TRANSACTIONS, 10_000_001, LONG_AGO),
        letter(SENSOR_READINGS, 10_000_002, LONG_AGO),
        letter(PAYMENTS_TRANSACTIONS, 10_000_003, now),
    )

    old, new = payment_decision(f"{run}-old", LONG_AGO), payment_decision(f"{run}-new", now)
    relabelled = payment_decision(f"{run}-late", LONG_AGO)  # an old transaction whose label was logged just now
    before_logged_at = payment_decision(f"{run}-unlogged", LONG_AGO)  # written before labels kept logged_at
    labelled = [
        label_action(d, "fraud", now, positive=True, audit={"age_band": "30-44"})
        for d in (old, new, relabelled, before_logged_at)
    ]
    labelled[0]["_source"]["logged_at"] = LONG_AGO.isoformat()
    del labelled[3]["_source"]["logged_at"]
    labelled[3]["_source"]["labelled_at"] = LONG_AGO.isoformat()

    async def scenario() -> tuple[list, int]:
        log = DecisionLog(settings, WorkerMetrics())
        try:
            rejected = await log.write(
                [
                    decision_action(old),
                    decision_action(new),
                    *labelled,
                    *(dead_letter_action(x) for x in (old_letter, other_stream, new_letter)),
                ]
            )
            return rejected, await expire_stream(log, STREAMS["payments"], CUTOFF)
        finally:
            await log.close()

    rejected, deleted = asyncio.run(scenario())

    assert rejected == []
    assert deleted == 4
    index, labels = STREAMS["payments"].index, label_index("payments")
    assert not es.exists(index=index, id=f"{run}-old") and es.exists(index=index, id=f"{run}-new")
    assert not es.exists(index=labels, id=f"{run}-old") and not es.exists(index=labels, id=f"{run}-unlogged")
    assert es.exists(index=labels, id=f"{run}-new")
    assert es.exists(index=labels, id=f"{run}-late"), "the record that its label was learned outlives its wait"
    assert not es.exists(index=DLQ_INDEX, id=old_letter.doc_id)
    assert es.exists(index=DLQ_INDEX, id=other_stream.doc_id), "another stream's dead letter is its own to delete"
    assert es.exists(index=DLQ_INDEX, id=new_letter.doc_id)


def test_the_payments_leader_deletes_what_aged_out_on_its_timer(
    settings: Settings, es: Elasticsearch, start_worker, payment_decision, wait_for
) -> None:
    old = payment_decision(f"{uuid.uuid4().hex[:10]}-aged", LONG_AGO)

    async def log_it() -> list:
        log = DecisionLog(settings, WorkerMetrics())
        try:
            return await log.write([decision_action(old)])
        finally:
            await log.close()

    assert asyncio.run(log_it()) == []
    index = STREAMS["payments"].index
    assert es.exists(index=index, id=old.event_id)
    days = (datetime.now(UTC) - CUTOFF).days  # the cutoff falls in 2002: only documents this old go
    start_worker("payments", extra_env={"STREAMSENSE_RETENTION_DAYS": str(days), "STREAMSENSE_RETENTION_CHECK_S": "2"})
    wait_for(lambda: not es.exists(index=index, id=old.event_id), 120, "the leader to delete the aged decision")


def test_a_retention_pass_whose_deletes_are_all_refused_fails_at_once_instead_of_searching_again_and_again(
    settings: Settings, es: Elasticsearch
) -> None:
    index = f"streamsense-retention-blocked-{uuid.uuid4().hex[:8]}"
    es.index(index=index, id="old", document={"decided_at": LONG_AGO.isoformat()}, refresh=True)
    es.indices.put_settings(index=index, settings={"index.blocks.write": True})

    async def expire() -> None:
        log = DecisionLog(settings, WorkerMetrics())
        try:
            await asyncio.wait_for(
                delete_matching(log, index, {"range": {"decided_at": {"lt": CUTOFF.isoformat()}}}), 30
            )
        finally:
            await log.close()

    try:
        with pytest.raises(RuntimeError, match=r"none of 1 old .* docs could be deleted"):
            asyncio.run(expire())
    finally:
        es.indices.put_settings(index=index, settings={"index.blocks.write": False})
        es.indices.delete(index=index)
