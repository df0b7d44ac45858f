"""The drift job's Elasticsearch requests against a stand-in client: what is asked, how answers are read."""

from datetime import UTC, datetime, timedelta
from typing import Any

from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import BadRequestError

from streamsense.models.drift.run import Window
from streamsense.streams.drift_query import SCORE_BINS, DecisionWindowReader, Plan, WindowCounts

T0 = datetime(2026, 4, 1, tzinfo=UTC)
WINDOW = Window(start=T0, end=T0 + timedelta(hours=1))
PLAN = Plan(
    psi_edges={"amount": [10.0]},
    ks_edges={"amount": [5.0, 10.0]},
    categorical=["country"],
    score_min=0.0,
    score_width=0.05,
)


def _answer(aggs: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "psi0": {"buckets": [{"doc_count": 3}, {"doc_count": 7}]},
        "ks0": {"buckets": [{"doc_count": 1}, {"doc_count": 2}, {"doc_count": 7}]},
        "t0": {"buckets": [{"key": "DE", "doc_count": 6}], "sum_other_doc_count": 4},
        "score": {"buckets": [{"key": 0.0, "doc_count": 4}, {"key": 0.95, "doc_count": 6}]},
        "outcome": {"buckets": [{"key": "legit", "doc_count": 10}]},
    }
    if "kstest0" in aggs:
        answer["kstest0"] = {"less": 0.5, "greater": 0.5, "two_sided": 0.004}
    return {"hits": {"total": {"value": 10}}, "aggregations": answer}


class FakeES:
    def __init__(self, has_ks_test: bool) -> None:
        self.has_ks_test = has_ks_test
        self.requests: list[dict[str, Any]] = []

    def search(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if "kstest0" in request["aggs"] and not self.has_ks_test:
            meta = ApiResponseMeta(400, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "localhost", 9200))
            raise BadRequestError("unknown aggregation [bucket_count_ks_test]", meta, {})
        return _answer(request["aggs"])


def _reference() -> WindowCounts:
    return WindowCounts(
        n=10, psi={"amount": [5, 5]}, ks={"amount": [2, 3, 5]}, terms={}, score=[0] * SCORE_BINS, outcome={}
    )


def test_counts_reads_ranges_terms_with_other_score_bins_and_outcomes() -> None:
    reader = DecisionWindowReader(FakeES(has_ks_test=False))  # type: ignore[arg-type]
    counts = reader.counts("idx", "m", WINDOW, PLAN)
    assert counts.n == 10 and counts.psi["amount"] == [3, 7] and counts.ks["amount"] == [1, 2, 7]
    assert counts.terms["country"] == {"DE": 6, "__other__": 4}
    assert counts.score[0] == 4 and counts.score[19] == 6 and sum(counts.score) == 10
    assert counts.outcome == {"legit": 10}


def test_elasticsearch_ks_test_is_used_where_the_node_has_it() -> None:
    es = FakeES(has_ks_test=True)
    counts = DecisionWindowReader(es).counts("idx", "m", WINDOW, PLAN, reference=_reference())  # type: ignore[arg-type]
    test = es.requests[0]["aggs"]["kstest0"]["bucket_count_ks_test"]
    assert test["buckets_path"] == "ks0>_count" and len(test["fractions"]) == 3
    assert counts.ks_pvalues == {"amount": 0.004}


def test_without_the_ml_aggregation_it_falls_back_once_and_remembers() -> None:
    es = FakeES(has_ks_test=False)
    reader = DecisionWindowReader(es)  # type: ignore[arg-type]
    assert reader.counts("idx", "m", WINDOW, PLAN, reference=_reference()).ks_pvalues == {}
    reader.counts("idx", "m", WINDOW, PLAN, reference=_reference())
    assert [("kstest0" in r["aggs"]) for r in es.requests] == [True, False, False]
