"""Kibana does not run here: check each saved object against the index templates it will query instead."""

import json
import re
from fnmatch import fnmatch
from pathlib import Path

import pytest

from streamsense.cli.kibana import SAVED_OBJECTS, bundle
from streamsense.streams.index_templates import TEMPLATES

NUMERIC = {"double", "float", "long", "integer", "short", "half_float", "scaled_float"}
AGGREGATABLE = NUMERIC | {"keyword", "date", "boolean"}
FIELD_TYPES_BY_AGG = {
    "terms": AGGREGATABLE,
    "date_histogram": {"date"},
    "histogram": NUMERIC,
    "percentiles": NUMERIC,
    "avg": NUMERIC,
    "max": NUMERIC | {"date"},
    "min": NUMERIC | {"date"},
    "sum": NUMERIC,
    "cardinality": AGGREGATABLE,
}
KUERY_FIELD = re.compile(r"([A-Za-z_][\w.]*)\s*:")


def _objects() -> list[dict]:
    return [json.loads(line) for f in sorted(SAVED_OBJECTS.glob("*.ndjson")) for line in f.read_text().splitlines()]


def _field_type(pattern: str, field: str) -> str | None:
    """The mapped type of ``field`` in the template whose index patterns cover the data view's pattern."""
    templates = [t for t in TEMPLATES.values() if any(fnmatch(pattern, p) for p in t["index_patterns"])]
    assert templates, f"no index template covers data view {pattern!r}"
    node: dict = templates[0]["template"]["mappings"]
    for part in field.split("."):
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node.get("type", "object")


def _data_views() -> dict[str, str]:
    return {o["id"]: o["attributes"]["title"] for o in _objects() if o["type"] == "index-pattern"}


def _visualizations() -> list[dict]:
    return [o for o in _objects() if o["type"] == "visualization"]


def test_every_data_view_time_field_is_a_date() -> None:
    views = [o for o in _objects() if o["type"] == "index-pattern"]
    assert {v["attributes"]["title"] for v in views} >= {"streamsense-decisions-*", "streamsense-drift"}
    for view in views:
        assert _field_type(view["attributes"]["title"], view["attributes"]["timeFieldName"]) == "date", view["id"]


@pytest.mark.parametrize("vis", _visualizations(), ids=lambda v: v["id"])
def test_every_aggregated_field_exists_with_an_aggregatable_type(vis: dict) -> None:
    (ref,) = [r for r in vis["references"] if r["type"] == "index-pattern"]
    pattern = _data_views()[ref["id"]]
    state = json.loads(vis["attributes"]["visState"])
    assert state["aggs"], "a visualization without aggregations shows nothing"
    for agg in state["aggs"]:
        field = agg["params"].get("field")
        if agg["type"] == "count":
            continue
        assert field, f"{agg['type']} needs a field"
        mapped = _field_type(pattern, field)
        assert mapped in FIELD_TYPES_BY_AGG[agg["type"]], (
            f"{field} is {mapped!r} in {pattern}, {agg['type']} needs one of {FIELD_TYPES_BY_AGG[agg['type']]}"
        )
    search = json.loads(vis["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    for field in KUERY_FIELD.findall(search["query"]["query"]):
        assert _field_type(pattern, field) in AGGREGATABLE, f"query field {field} not in {pattern}"


def test_dashboards_reference_only_objects_that_are_shipped() -> None:
    ids = {(o["type"], o["id"]) for o in _objects()}
    dashboards = [o for o in _objects() if o["type"] == "dashboard"]
    assert {d["attributes"]["title"] for d in dashboards} == {
        "StreamSense decisions",
        "StreamSense drift",
        "StreamSense dead letters",
    }
    for dash in dashboards:
        panels = json.loads(dash["attributes"]["panelsJSON"])
        refs = {r["name"]: (r["type"], r["id"]) for r in dash["references"]}
        assert panels and all(refs[p["panelRefName"]] in ids for p in panels), dash["id"]
    for vis in _visualizations():
        assert all((r["type"], r["id"]) in ids for r in vis["references"]), vis["id"]


def test_bundle_puts_data_views_first_and_keeps_every_object(tmp_path: Path) -> None:
    lines = bundle().decode().splitlines()
    assert len(lines) == len(_objects())
    first = [json.loads(line)["type"] for line in lines[: len(_data_views())]]
    assert set(first) == {"index-pattern"}
