"""The decision log on the real node: what it refuses comes back, the rest is indexed once per id."""

import asyncio
import threading
import time
import uuid
from collections.abc import Callable

import orjson
import pytest
from elasticsearch import Elasticsearch

from streamsense.settings import Settings
from streamsense.streams.connections import ConnectionSetupError
from streamsense.streams.decision_log import DecisionLog, install_templates
from streamsense.streams.metrics import WorkerMetrics
from streamsense.streams.topics import STREAMS

pytestmark = pytest.mark.integration


def test_a_document_the_mapping_refuses_is_returned_and_the_others_are_indexed_once(
    settings: Settings, es: Elasticsearch
) -> None:
    index = STREAMS["payments"].index
    good = {"event_id": "log-good", "stream": "payments", "score": 0.25}
    bad = {"event_id": "log-bad", "stream": "payments", "not_in_the_mapping": 1}
    actions = [
        {"_op_type": "index", "_index": index, "_id": "log-good", "_source": orjson.dumps(good)},
        {"_op_type": "index", "_index": index, "_id": "log-bad", "_source": bad},
    ]

    async def write_twice() -> list:
        log = DecisionLog(settings, WorkerMetrics())
        try:
            return await log.write(actions) + await log.write(actions[:1])
        finally:
            await log.close()

    rejected = asyncio.run(write_twice())

    assert [(r.index, r.doc_id, r.status) for r in rejected] == [(index, "log-bad", 400)]
    assert "strict_dynamic_mapping_exception" in rejected[0].reason
    es.indices.refresh(index=index)
    assert es.count(index=index, query={"ids": {"values": ["log-good", "log-bad"]}})["count"] == 1
    assert es.get(index=index, id="log-good")["_source"]["score"] == 0.25


def test_a_feature_whose_first_value_reads_as_a_date_stays_a_keyword_that_takes_other_values(
    settings: Settings, es: Elasticsearch
) -> None:
    index = f"{STREAMS['payments'].index}-dates-{uuid.uuid4().hex[:8]}"  # a new index, shaped by the template
    actions = [
        {"_op_type": "index", "_index": index, "_id": f"d{n}", "_source": {"event_id": f"d{n}", "features": {"t": t}}}
        for n, t in enumerate(["2024-01-05", "T-17"])
    ]

    async def write() -> list:
        log = DecisionLog(settings, WorkerMetrics())
        try:
            return await log.write(actions)
        finally:
            await log.close()

    try:
        assert asyncio.run(write()) == []
        mapping = es.indices.get_mapping(index=index)[index]["mappings"]
        assert mapping["properties"]["features"]["properties"]["t"]["type"] == "keyword"
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)


def _write_waiting_for(settings: Settings, action: dict, lift: Callable[[], object], blocked: str) -> list:
    """Write ``action`` while writes are blocked; after 2 s the write must still wait, then ``lift`` the block and
    return what the write refused."""

    async def write_then_lift() -> list:
        log = DecisionLog(settings.model_copy(update={"es_retry_initial_s": 0.2}), WorkerMetrics())
        try:
            writing = asyncio.create_task(log.write([action]))
            await asyncio.sleep(2)
            assert not writing.done(), f"the write must wait while {blocked}"
            lift()
            return await asyncio.wait_for(writing, 30)
        finally:
            await log.close()

    return asyncio.run(write_then_lift())


def test_a_write_to_an_index_blocked_for_maintenance_waits_for_the_block_to_lift_instead_of_dead_lettering(
    settings: Settings, es: Elasticsearch
) -> None:
    index = f"{STREAMS['payments'].index}-blocked-{uuid.uuid4().hex[:8]}"
    es.indices.create(index=index)
    es.indices.put_settings(index=index, settings={"index.blocks.write": True})
    action = {"_op_type": "index", "_index": index, "_id": "b1", "_source": {"event_id": "b1"}}

    def lift() -> object:
        return es.indices.put_settings(index=index, settings={"index.blocks.write": False})

    try:
        assert _write_waiting_for(settings, action, lift, "the index is blocked") == []
        assert es.get(index=index, id="b1")["found"]
    finally:
        lift()
        es.indices.delete(index=index)


def test_a_write_while_the_whole_cluster_is_read_only_waits_for_the_block_to_lift_instead_of_failing_as_a_credential(
    settings: Settings, es: Elasticsearch
) -> None:
    action = {"_op_type": "index", "_index": STREAMS["payments"].index, "_id": "ro1", "_source": {"event_id": "ro1"}}

    def lift() -> object:
        return es.cluster.put_settings(persistent={"cluster.blocks.read_only": None})

    es.cluster.put_settings(persistent={"cluster.blocks.read_only": True})
    try:
        assert _write_waiting_for(settings, action, lift, "the cluster is read-only") == []
        assert es.get(index=STREAMS["payments"].index, id="ro1")["found"]
    finally:
        lift()


def test_a_worker_starting_while_the_cluster_is_read_only_waits_for_the_block_and_names_it_if_it_stays(
    settings: Settings, es: Elasticsearch
) -> None:
    """A read-only cluster answers 403 like a refused credential; the start waits, then says what blocks it."""

    def lift() -> object:
        return es.cluster.put_settings(persistent={"cluster.blocks.read_only": None})

    es.cluster.put_settings(persistent={"cluster.blocks.read_only": True})
    try:
        with pytest.raises(ConnectionSetupError, match=r"blocks writes .*cluster\.blocks\.read_only"):
            install_templates(settings, wait_s=2)
        lifting = threading.Timer(2, lift)
        lifting.start()
        started = time.monotonic()
        install_templates(settings, wait_s=30)
        assert time.monotonic() - started >= 1.5, "the templates must wait for the block to lift"
        lifting.join()
    finally:
        lift()
