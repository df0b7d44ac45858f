"""Confusion counts per audit group from the label index: the fairness report over what the workers decided."""

from datetime import datetime

from elasticsearch import Elasticsearch


def fairness_counts(es: Elasticsearch, index: str, attribute: str, since: datetime | None = None) -> dict[str, list]:
    """``[tn, fp, fn, tp]`` per value of ``audit.<attribute>`` among labelled decisions, by aggregation."""
    if not es.indices.exists(index=index):
        return {}
    query = {"range": {"labelled_at": {"gte": since.isoformat()}}} if since else {"match_all": {}}
    aggs = {
        "group": {
            "terms": {"field": f"audit.{attribute}", "size": 100},
            "aggs": {"truth": {"terms": {"field": "positive"}, "aggs": {"flag": {"terms": {"field": "predicted"}}}}},
        }
    }
    result = es.search(index=index, size=0, query=query, aggs=aggs)
    counts: dict[str, list] = {}
    for group in result["aggregations"]["group"]["buckets"]:
        cells = counts.setdefault(group["key"], [0, 0, 0, 0])
        for truth in group["truth"]["buckets"]:
            fraud = truth.get("key_as_string") == "true" or truth["key"] == 1
            for flag in truth["flag"]["buckets"]:
                cells[2 * int(fraud) + int(flag["key"] == "fraud")] += flag["doc_count"]
    return counts
