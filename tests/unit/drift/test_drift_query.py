"""The drift job's Elasticsearch requests against a stand-in client: what is asked, how answers are read."""

from datetime import UTC, datetime, timedelta
from typing import Any

from streamsense.models.drift.run import Window
from streamsense.streams.drift_query import AUC_PERCENTS, MAX_RESULT_WINDOW, DecisionWindowReader, Plan

T0 = datetime(2026, 4, 1, tzinfo=UTC)
WINDOW = Window(start=T0, end=T0 + timedelta(hours=1))
PLAN = Plan(
    psi_edges={"amount": [10.0]},
    ks_edges={"amount": [5.0, 10.0]},
    categorical=["country"],
    score_min=0.0,
    score_width=0.05,
    fields=["amount", "country"],
)


def _answer(aggs: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "psi0": {"buckets": [{"doc_count": 3}, {"doc_count": 7}]},
        "ks0": {"buckets": [{"doc_count": 1}, {"doc_count": 2}, {"doc_count": 7}]},
        "t0": {"buckets": [{"key": "DE", "doc_count": 6}], "sum_other_doc_count": 4},
        "score": {"buckets": [{"key": 0.0, "doc_count": 4}, {"key": 0.95, "doc_count": 6}]},
        "outcome": {"buckets": [{"key": "legit", "doc_count": 10}]},
        "has0": {"doc_count": 10},
        "has1": {"doc_count": 6},
    }
    return {"hits": {"total": {"value": 10}}, "aggregations": answer}


class FakeES:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def search(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return _answer(request["aggs"])


def test_counts_reads_ranges_terms_with_other_score_bins_and_outcomes() -> None:
    reader = DecisionWindowReader(FakeES())  # type: ignore[arg-type]
    counts = reader.counts("idx", "m", WINDOW, PLAN)
    assert counts.n == 10 and counts.psi["amount"] == [3, 7] and counts.ks["amount"] == [1, 2, 7]
    assert counts.terms["country"] == {"DE": 6, "__other__": 4}
    assert counts.score[0] == 4 and counts.score[19] == 6 and sum(counts.score) == 10
    assert counts.outcome == {"legit": 10}
    assert counts.present == {"amount": 10, "country": 6}
    assert reader.es.requests[0]["aggs"]["has1"] == {"filter": {"exists": {"field": "features.country"}}}


def test_performance_counts_each_class_between_the_windows_own_score_percentiles() -> None:
    values = {f"{p:.1f}": p / 100 for p in AUC_PERCENTS}
    percentiles = {"hits": {"total": {"value": 195}}, "aggregations": {"p": {"values": values}}}
    positives = [{"doc_count": 15 if j == 99 else 0} for j in range(100)]
    negatives = [{"doc_count": 180 if j == 0 else 0} for j in range(100)]
    counts = {
        "aggregations": {
            "cls": {
                "buckets": [
                    {"key": 1, "key_as_string": "true", "r": {"buckets": positives}},
                    {"key": 0, "key_as_string": "false", "r": {"buckets": negatives}},
                ]
            },
            "ok": {"buckets": [{"key": 1, "key_as_string": "true", "doc_count": 190}]},
        }
    }
    asked: list[dict[str, Any]] = []

    class Labelled:
        indices = type("Indices", (), {"exists": staticmethod(lambda index: True)})()

        def search(self, **request: Any) -> dict[str, Any]:
            asked.append(request["aggs"])
            return percentiles if "p" in request["aggs"] else counts

    point = DecisionWindowReader(Labelled()).performance("labels", "m", WINDOW)  # type: ignore[arg-type]
    assert point is not None and (point.n, point.positives, point.auc, point.accuracy) == (195, 15, 1.0, 1.0)
    ranges = asked[1]["cls"]["aggs"]["r"]["range"]["ranges"]
    assert len(ranges) == 100 and ranges[0] == {"to": 0.01} and ranges[-1] == {"from": 0.99}


def test_no_search_asks_for_more_hits_than_elasticsearch_serves() -> None:
    class NoHits(FakeES):
        indices = type("Indices", (), {"exists": staticmethod(lambda index: True)})()

        def search(self, **request: Any) -> dict[str, Any]:
            self.requests.append(request)
            return {"hits": {"hits": []}}

    es = NoHits()
    reader = DecisionWindowReader(es)  # type: ignore[arg-type]
    reader.errors("labels", "m", WINDOW, WINDOW, limit=20_000)
    reader.sample("idx", "m", WINDOW, ["amount"], size=20_000)
    assert [r["size"] for r in es.requests] == [MAX_RESULT_WINDOW] * 3
