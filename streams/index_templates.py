"""Explicit Elasticsearch mappings for the decision log: no dynamic surprises, every field aggregatable."""

from streamsense.streams.topics import (
    AWAITING_LABELS_INDEX,
    DECISION_INDEX_PREFIX,
    DLQ_INDEX,
    DRIFT_INDEX,
    LABEL_INDEX_PREFIX,
)

KEYWORD = {"type": "keyword", "ignore_above": 256}
DOUBLE = {"type": "double"}
DATE = {"type": "date"}
BOOLEAN = {"type": "boolean"}

DECISION_MAPPINGS: dict = {
    "dynamic": "strict",
    # else a new feature's first string that reads as a date ("2024-01-05", a terminal id) maps it as a date, before
    # the string template applies, and every later document with another value there is refused
    "date_detection": False,
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
        "event_id": KEYWORD,
        "key": KEYWORD,
        "source_topic": KEYWORD,
        "source_partition": {"type": "integer"},
        "source_offset": {"type": "long"},
        "source_timestamp_ms": {"type": "long"},
        "kind": KEYWORD,
        "reason": {"type": "text", "fields": {"raw": KEYWORD}},
        "failed_at": DATE,
        "size_bytes": {"type": "long"},
        "preview": {"type": "text"},
    },
}

DRIFT_MAPPINGS: dict = {
    "dynamic": "strict",
    "properties": {
        "stream": KEYWORD,
        "model": KEYWORD,
        "feature": KEYWORD,
        "statistic": KEYWORD,
        "value": DOUBLE,
        "level": KEYWORD,
        "threshold": DOUBLE,
        "pvalue": DOUBLE,
        "crossed": BOOLEAN,
        "created_at": DATE,
        "reference_from": DATE,
        "reference_to": DATE,
        "current_from": DATE,
        "current_to": DATE,
        "reference_size": {"type": "long"},
        "current_size": {"type": "long"},
        "labelled": {"type": "long"},
        "accuracy": DOUBLE,
        "top_features": KEYWORD,
        # Plot data for the HTML report; kept in _source, never searched or aggregated.
        "score_histogram": {"type": "object", "enabled": False},
    },
}

LABEL_MAPPINGS: dict = {
    "dynamic": "strict",
    "properties": {
        "event_id": KEYWORD,
        "event_time": DATE,
        "labelled_at": DATE,
        "logged_at": DATE,
        "stream": KEYWORD,
        "model": {"properties": {"name": KEYWORD, "version": KEYWORD}},
        "score": DOUBLE,
        "predicted": KEYWORD,
        "actual": KEYWORD,
        "positive": BOOLEAN,
        "correct": BOOLEAN,
        "audit": {"properties": {"age_band": KEYWORD, "gender": KEYWORD}},
    },
}

AWAITING_LABELS_MAPPINGS: dict = {
    # what the fraud worker needs when a label arrives, read back by id only: nothing but the expiry time is indexed
    "dynamic": False,
    "properties": {"at": DOUBLE},
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
    "streamsense-drift": {
        "index_patterns": [DRIFT_INDEX],
        "priority": 200,
        "template": {"settings": SETTINGS, "mappings": DRIFT_MAPPINGS},
    },
    "streamsense-labels": {
        "index_patterns": [f"{LABEL_INDEX_PREFIX}*"],
        "priority": 200,
        "template": {"settings": SETTINGS, "mappings": LABEL_MAPPINGS},
    },
    "streamsense-fraud-awaiting-labels": {
        "index_patterns": [AWAITING_LABELS_INDEX],
        "priority": 200,
        "template": {"settings": SETTINGS, "mappings": AWAITING_LABELS_MAPPINGS},
    },
}
