"""Explicit Elasticsearch mappings for the decision log: no dynamic surprises, every field aggregatable."""

from streamsense.streams.topics import DECISION_INDEX_PREFIX, DLQ_INDEX

KEYWORD = {"type": "keyword", "ignore_above": 256}
DOUBLE = {"type": "double"}
DATE = {"type": "date"}
BOOLEAN = {"type": "boolean"}

DECISION_MAPPINGS: dict = {
    "dynamic": "strict",
    "dynamic_templates": [
        {"feature_numbers": {"path_match": "features.*", "match_mapping_type": "long", "mapping": DOUBLE}},
        {"feature_decimals": {"path_match": "features.*", "match_mapping_type": "double", "mapping": DOUBLE}},
        {"feature_strings": {"path_match": "features.*", "match_mapping_type": "string", "mapping": KEYWORD}},
        {
            "feature_flags": {
                "path_match": "features.*",
                "match_mapping_type": "boolean",
                "mapping": {"type": "boolean"},
            }
        },
    ],
    "properties": {
        "event_id": KEYWORD,
        "event_time": DATE,
        "decided_at": DATE,
        "schema_version": {"type": "integer"},
        "stream": KEYWORD,
        "key": KEYWORD,
        "model": {"properties": {"name": KEYWORD, "version": KEYWORD}},
        "score": DOUBLE,
        "label": KEYWORD,
        "threshold": DOUBLE,
        "latency_ms": DOUBLE,
        "reasons": {"properties": {"feature": KEYWORD, "value": KEYWORD, "contribution": DOUBLE}},
        "features": {"type": "object", "dynamic": True},
        "intents": {"properties": {"intent": KEYWORD, "probability": DOUBLE}},
        "state": {
            "properties": {
                "domain": KEYWORD,
                "active_intent": KEYWORD,
                "slots": {"type": "flattened"},
                "turn_count": {"type": "integer"},
            }
        },
        "knowledge": {"properties": {"node_id": KEYWORD, "kind": KEYWORD, "text": {"type": "text"}, "score": DOUBLE}},
        "failure_probability": DOUBLE,
        "minutes_to_failure": DOUBLE,
    },
}

DLQ_MAPPINGS: dict = {
    "dynamic": "strict",
    "properties": {
        "source_topic": KEYWORD,
        "source_partition": {"type": "integer"},
        "source_offset": {"type": "long"},
        "kind": KEYWORD,
        "reason": {"type": "text", "fields": {"raw": KEYWORD}},
        "failed_at": DATE,
        "size_bytes": {"type": "long"},
        "preview": {"type": "text"},
    },
}

SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}

TEMPLATES: dict[str, dict] = {
    "streamsense-decisions": {
        "index_patterns": [f"{DECISION_INDEX_PREFIX}*"],
        "priority": 200,
        "template": {"settings": SETTINGS, "mappings": DECISION_MAPPINGS},
    },
    "streamsense-dlq": {
        "index_patterns": [DLQ_INDEX],
        "priority": 200,
        "template": {"settings": SETTINGS, "mappings": DLQ_MAPPINGS},
    },
}
