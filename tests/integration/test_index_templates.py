"""Index mappings on the real Elasticsearch node: an index that an earlier release created gets the fields added
since, instead of refusing (under its strict mapping) every document that names one."""

import uuid

import pytest
from elasticsearch import BadRequestError, Elasticsearch

from streamsense.settings import Settings
from streamsense.streams.decision_log import install_templates
from streamsense.streams.index_templates import DECISION_MAPPINGS
from streamsense.streams.topics import DECISION_INDEX_PREFIX

pytestmark = pytest.mark.integration


def test_installing_templates_adds_new_fields_to_an_index_an_earlier_release_created(
    es: Elasticsearch, settings: Settings
) -> None:
    index = f"{DECISION_INDEX_PREFIX}it{uuid.uuid4().hex[:8]}"
    old = {
        **DECISION_MAPPINGS,
        "properties": {k: v for k, v in DECISION_MAPPINGS["properties"].items() if k != "latency_ms"},
    }
    es.indices.put_index_template(name=f"{index}-old", index_patterns=[index], priority=500, template={"mappings": old})
    try:
        es.indices.create(index=index)
        es.indices.delete_index_template(name=f"{index}-old")
        with pytest.raises(BadRequestError, match="strict_dynamic_mapping_exception"):
            es.index(index=index, id="a", document={"event_id": "a", "latency_ms": 1.5})

        install_templates(settings)

        es.index(index=index, id="a", document={"event_id": "a", "latency_ms": 1.5}, refresh=True)
        assert es.get(index=index, id="a")["_source"]["latency_ms"] == 1.5
        assert es.indices.get_mapping(index=index)[index]["mappings"]["properties"]["latency_ms"]["type"] == "double"
    finally:
        es.options(ignore_status=404).indices.delete_index_template(name=f"{index}-old")
        es.options(ignore_status=404).indices.delete(index=index)
