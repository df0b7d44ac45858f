"""Elasticsearch side of the drift job: every window statistic comes back as an aggregation, not as rows.

Per stream and model the job sends: one request for the reference percentiles (bin edges), one per
window for the counts in those bins, the ``terms`` of categorical features, the score histogram and the
outcome mix; a bounded random sample per window for adversarial validation; and, once labels exist, one
request per window on the label index. The statistics themselves are computed in ``models.drift``.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from elasticsearch import Elasticsearch

from streamsense.models.drift.aggregates import (
    KS_PERCENTS,
    PSI_PERCENTS,
    auc_from_class_histograms,
    inner_edges,
    ranges,
)
from streamsense.models.drift.run import PerformancePoint, ScoreHistogram, Window

log = logging.getLogger(__name__)
NUMERIC_TYPES = {"double", "float", "long", "integer", "short", "half_float", "scaled_float"}
CATEGORICAL_TYPES = {"keyword", "boolean"}
OTHER = "__other__"
MAX_RESULT_WINDOW = 10_000
"""Elasticsearch's default ``index.max_result_window``: a search asking for more hits is refused."""
AUC_PERCENTS = [float(p) for p in range(1, 100)]
"""Score percentiles that bound the buckets a window's AUC is counted in (``performance``)."""
SCORE_BINS = 20
TIME_FIELD = "event_time"


def window_filter(window: Window, model: str | None = None) -> dict[str, Any]:
    """Decisions whose event time lies in the window (and of one model)."""
    clauses: list[dict[str, Any]] = [
        {"range": {TIME_FIELD: {"gte": window.start.isoformat(), "lt": window.end.isoformat()}}}
    ]
    if model is not None:
        clauses.append({"term": {"model.name": model}})
    return {"bool": {"filter": clauses}}


def newest_end(es: Elasticsearch, index: str) -> datetime | None:
    """Just after the newest decision's event time in ``index`` (windows end before their end), or None when it
    holds none: where trailing windows end for traffic dated in another time than now (a replay, the simulators)."""
    if not es.indices.exists(index=index):
        return None
    result = es.search(index=index, size=0, aggs={"newest": {"max": {"field": TIME_FIELD}}})
    newest = result["aggregations"]["newest"]["value"]
    if newest is None:
        return None
    return datetime.fromtimestamp(newest / 1000, UTC) + timedelta(milliseconds=1)


def feature_fields(es: Elasticsearch, index: str) -> tuple[list[str], list[str]]:
    """Numeric and categorical ``features.*`` names from the mapping (the template maps features dynamically)."""
    mappings = es.indices.get_mapping(index=index)
    numeric: set[str] = set()
    categorical: set[str] = set()
    for body in mappings.values():
        props = body["mappings"].get("properties", {}).get("features", {}).get("properties", {})
        for name, spec in props.items():
            if spec.get("type") in NUMERIC_TYPES:
                numeric.add(name)
            elif spec.get("type") in CATEGORICAL_TYPES:
                categorical.add(name)
    return sorted(numeric), sorted(categorical)


def models_in(es: Elasticsearch, index: str, windows: list[Window]) -> list[str]:
    """Model names with decisions in any of the windows."""
    query = {"bool": {"should": [window_filter(w) for w in windows], "minimum_should_match": 1}}
    result = es.search(index=index, size=0, query=query, aggs={"m": {"terms": {"field": "model.name", "size": 100}}})
    return sorted(b["key"] for b in result["aggregations"]["m"]["buckets"])


def _key(bucket: dict[str, Any]) -> str:
    return str(bucket.get("key_as_string", bucket["key"]))


@dataclass
class Plan:
    """What to count in both windows, fixed from the reference window so that both use the same bins."""

    psi_edges: dict[str, list[float]]
    ks_edges: dict[str, list[float]]
    categorical: list[str]
    score_min: float
    score_width: float
    skipped: dict[str, str] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)
    """Every feature of the index, whose presence is counted in both windows (``presence_drift``)."""


def plan(
    es: Elasticsearch,
    index: str,
    model: str,
    reference: Window,
    current: Window,
    numeric: list[str],
    categorical: list[str],
    max_categories: int,
) -> Plan:
    """Reference percentiles of each numeric feature, cardinality of each categorical one, the score range."""
    percents = sorted(set(PSI_PERCENTS) | set(KS_PERCENTS))
    aggs: dict[str, Any] = {
        f"p{i}": {"percentiles": {"field": f"features.{name}", "percents": percents}} for i, name in enumerate(numeric)
    }
    aggs |= {f"c{i}": {"cardinality": {"field": f"features.{name}"}} for i, name in enumerate(categorical)}
    ref = es.search(index=index, size=0, query=window_filter(reference, model), aggs=aggs)["aggregations"]
    both = {"bool": {"should": [window_filter(reference, model), window_filter(current, model)]}}
    score = es.search(index=index, size=0, query=both, aggs={"s": {"stats": {"field": "score"}}})["aggregations"]["s"]
    result = Plan({}, {}, [], 0.0, 1.0 / SCORE_BINS, fields=[*numeric, *categorical])
    for i, name in enumerate(numeric):
        values = ref[f"p{i}"]["values"]
        psi_edges = inner_edges([values.get(f"{p:.1f}") for p in PSI_PERCENTS])
        if not psi_edges:
            result.skipped[name] = "no values in the reference window"
            continue
        result.psi_edges[name] = psi_edges
        result.ks_edges[name] = inner_edges([values.get(f"{p:.1f}") for p in KS_PERCENTS])
    for i, name in enumerate(categorical):
        cardinality = ref[f"c{i}"]["value"]
        if cardinality > max_categories:
            result.skipped[name] = f"{cardinality} distinct values: an identifier, not a distribution"
        elif cardinality > 0:
            result.categorical.append(name)
    if score["count"]:
        lo, hi = float(score["min"]), float(score["max"])
        if lo >= 0.0 and hi <= 1.0:
            lo, hi = 0.0, 1.0
        result.score_min, result.score_width = lo, max(hi - lo, 1e-9) / SCORE_BINS
    return result


@dataclass
class WindowCounts:
    """One window's aggregated counts, keyed like the plan."""

    n: int
    psi: dict[str, list[int]]
    ks: dict[str, list[int]]
    terms: dict[str, dict[str, int]]
    score: list[int]
    outcome: dict[str, int]
    present: dict[str, int] = field(default_factory=dict)


class DecisionWindowReader:
    """Runs the count requests.

    KS is computed from the bucket counts of both windows (``models.drift.aggregates``), not by Elasticsearch's ML
    ``bucket_count_ks_test``: that aggregation is given the reference as proportions only, so its p-value cannot
    weigh the reference window's size, and nodes without the ML module (such as the one the tests run) lack it, so
    the statistic a user's node reported was not the one tested here."""

    def __init__(self, es: Elasticsearch) -> None:
        self.es = es

    def counts(self, index: str, model: str, window: Window, p: Plan) -> WindowCounts:
        """Bucket counts of ``window``."""
        names = list(p.psi_edges)
        aggs: dict[str, Any] = {}
        for i, name in enumerate(names):
            fieldname = f"features.{name}"
            aggs[f"psi{i}"] = {"range": {"field": fieldname, "ranges": ranges(p.psi_edges[name])}}
            aggs[f"ks{i}"] = {"range": {"field": fieldname, "ranges": ranges(p.ks_edges[name])}}
        for i, name in enumerate(p.categorical):
            aggs[f"t{i}"] = {"terms": {"field": f"features.{name}", "size": 1000}}
        last = p.score_min + p.score_width * (SCORE_BINS - 1)
        aggs["score"] = {
            "histogram": {
                "field": "score",
                "interval": p.score_width,
                "offset": p.score_min % p.score_width,
                "min_doc_count": 0,
                "extended_bounds": {"min": p.score_min, "max": last},
            }
        }
        aggs["outcome"] = {"terms": {"field": "label", "size": 100}}
        for i, name in enumerate(p.fields):
            aggs[f"has{i}"] = {"filter": {"exists": {"field": f"features.{name}"}}}
        result = self.es.search(
            index=index, size=0, query=window_filter(window, model), aggs=aggs, track_total_hits=True
        )
        return self._parse(result, names, p)

    @staticmethod
    def _parse(result: dict[str, Any], names: list[str], p: Plan) -> WindowCounts:
        aggs = result["aggregations"]
        terms = {}
        for i, name in enumerate(p.categorical):
            agg = aggs[f"t{i}"]
            counts = {_key(b): int(b["doc_count"]) for b in agg["buckets"]}
            if agg.get("sum_other_doc_count"):
                counts[OTHER] = int(agg["sum_other_doc_count"])
            terms[name] = counts
        score = [0] * SCORE_BINS
        for bucket in aggs["score"]["buckets"]:
            slot = round((bucket["key"] - p.score_min) / p.score_width)
            score[min(max(slot, 0), SCORE_BINS - 1)] += int(bucket["doc_count"])
        return WindowCounts(
            n=int(result["hits"]["total"]["value"]),
            psi={name: [int(b["doc_count"]) for b in aggs[f"psi{i}"]["buckets"]] for i, name in enumerate(names)},
            ks={name: [int(b["doc_count"]) for b in aggs[f"ks{i}"]["buckets"]] for i, name in enumerate(names)},
            terms=terms,
            score=score,
            outcome={_key(b): int(b["doc_count"]) for b in aggs["outcome"]["buckets"]},
            present={name: int(aggs[f"has{i}"]["doc_count"]) for i, name in enumerate(p.fields)},
        )

    def sample(
        self, index: str, model: str, window: Window, names: list[str], size: int, seed: int = 0
    ) -> npt.NDArray[np.float64]:
        """A seeded random sample of at most ``size`` decisions' numeric features (NaN where missing)."""
        query = {
            "function_score": {
                "query": window_filter(window, model),
                "random_score": {"seed": seed, "field": "_seq_no"},
                "boost_mode": "replace",
            }
        }
        source = [f"features.{n}" for n in names]
        found = self.es.search(index=index, size=min(size, MAX_RESULT_WINDOW), query=query, source=source)
        hits = found["hits"]["hits"]
        rows = [[_number(h["_source"].get("features", {}).get(n)) for n in names] for h in hits]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(names))

    def errors(self, index: str, model: str, reference: Window, current: Window, limit: int) -> tuple[list[float], int]:
        """The labelled error stream (1 = wrong) in label-arrival order over both windows, at most ``limit`` per
        window (and Elasticsearch's ``MAX_RESULT_WINDOW``, past which it refuses a search), and where the current
        window starts in it: what an online drift detector would have seen."""
        if not self.es.indices.exists(index=index):
            return [], 0
        parts = []
        for window in (reference, current):
            hits = self.es.search(
                index=index,
                size=min(limit, MAX_RESULT_WINDOW),
                query=window_filter(window, model),
                sort=[{"labelled_at": "asc"}],
                source=["correct"],
            )["hits"]["hits"]
            parts.append([0.0 if hit["_source"]["correct"] else 1.0 for hit in hits])
        return parts[0] + parts[1], len(parts[0])

    def performance(self, index: str, model: str, window: Window) -> PerformancePoint | None:
        """AUC and accuracy of the window's labelled decisions, from per-class score counts in the buckets between
        the window's own score percentiles; None without labels.

        Buckets of equal mass keep AUC close to exact whatever the scores' calibration: over the fixed-width bins
        used before, a model whose scores crowd near 0 read a false AUC drop (a retraining that squares the scores
        keeps their ranking; ``tests/unit/drift/test_drift_aggregates.py`` shows both)."""
        if not self.es.indices.exists(index=index):
            return None
        query = window_filter(window, model)
        percents = {"percentiles": {"field": "score", "percents": AUC_PERCENTS}}
        found = self.es.search(index=index, size=0, query=query, aggs={"p": percents}, track_total_hits=True)
        n = int(found["hits"]["total"]["value"])
        if n == 0:
            return None
        values = found["aggregations"]["p"]["values"]
        buckets = ranges(inner_edges([values.get(f"{p:.1f}") for p in AUC_PERCENTS]))
        aggs = {
            "cls": {
                "terms": {"field": "positive", "size": 2},
                "aggs": {"r": {"range": {"field": "score", "ranges": buckets}}},
            },
            "ok": {"terms": {"field": "correct", "size": 2}},
        }
        result = self.es.search(index=index, size=0, query=query, aggs=aggs)
        by_class = {"true": [0] * len(buckets), "false": [0] * len(buckets)}
        for bucket in result["aggregations"]["cls"]["buckets"]:
            by_class[_key(bucket)] = [int(b["doc_count"]) for b in bucket["r"]["buckets"]]
        correct = {_key(b): int(b["doc_count"]) for b in result["aggregations"]["ok"]["buckets"]}
        judged = correct.get("true", 0) + correct.get("false", 0)
        return PerformancePoint(
            n=n,
            positives=sum(by_class["true"]),
            auc=auc_from_class_histograms(by_class["true"], by_class["false"]),
            accuracy=correct.get("true", 0) / judged if judged else None,
        )


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("nan")


def score_histogram(p: Plan, reference: WindowCounts, current: WindowCounts) -> ScoreHistogram:
    """The score bins of both windows, for the HTML report's distribution plot."""
    left = [p.score_min + i * p.score_width for i in range(SCORE_BINS)]
    return ScoreHistogram(left_edges=left, width=p.score_width, reference=reference.score, current=current.score)
