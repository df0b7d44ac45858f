"""Proof of the drift job on the real Elasticsearch node and Kafka broker.

Payments traffic from the project's generator is scored by the real fraud scorer (features, online model
learning from the delayed labels, as the agent does; ``datasets/drift_proof.py``) and logged through the
DecisionLog. From day 11 on, every amount is multiplied by 1.6 before scoring: a known shift. The job must flag
amount and the features computed from it, and leave the features that do not depend on amounts alone.
"""

import asyncio
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from typer.testing import CliRunner

from streamsense.cli.main import app
from streamsense.datasets.drift_proof import CURRENT, MODEL, REFERENCE, decisions_and_labels
from streamsense.models.drift.report import TESTED
from streamsense.models.drift.run import DriftRun
from streamsense.settings import Settings
from streamsense.streams.decision_log import DecisionLog
from streamsense.streams.drift_job import publish, run_drift
from streamsense.streams.drift_query import newest_end
from streamsense.streams.metrics import WorkerMetrics
from streamsense.streams.topics import DRIFT_INDEX, DRIFT_REPORTS, STREAMS, label_index

pytestmark = pytest.mark.integration

SHIFTED = {"amount", "amount_log", "amount_sqrt", "amount_to_account_mean_7d"}
"""Amount itself and what moves with it one to one: PSI alert expected."""
AMOUNT_DERIVED = re.compile(r"amount")
"""Every feature computed from amounts (window means and maxima too): KS alert expected."""
STABLE = {
    "is_night",
    "is_weekend",
    "distance",
    "account_count_1d",
    "account_count_7d",
    "terminal_count_1d",
    "terminal_count_7d",
    "account_night_share_1d",
    "account_night_share_7d",
    "terminal_night_share_1d",
    "terminal_night_share_7d",
    "account_id_freq",
    "terminal_id_freq",
}
"""Counts, times, places: the shift does not touch them. (The target encodings are neither: a cold-started
pipeline's encodings move as labels accumulate, and the job rightly flags that too.)"""


def _levels(run: DriftRun, statistic: str) -> dict[str, str]:
    return {f.feature: f.level for f in run.report.features if f.statistic == statistic}


def test_drift_job_flags_the_shifted_features_not_the_stable_ones(
    settings: Settings, es: Elasticsearch, read_topic: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decisions, labels = decisions_and_labels(seed=3)

    async def write_all() -> list:
        log = DecisionLog(settings, WorkerMetrics())
        try:
            return await log.write(decisions) + await log.write(labels)
        finally:
            await log.close()

    assert asyncio.run(write_all()) == []
    es.indices.refresh(index=[STREAMS["payments"].index, label_index("payments")])

    runs = [r for r in run_drift(settings, "payments", REFERENCE, CURRENT, es) if r.model == MODEL]
    assert len(runs) == 1
    run = runs[0]
    psi = _levels(run, "psi")
    ks = _levels(run, "ks_pvalue")
    assert {f: psi[f] for f in SHIFTED if psi[f] != "alert"} == {}, psi
    assert {f: ks[f] for f in ks if AMOUNT_DERIVED.search(f) and ks[f] != "alert"} == {}, ks
    assert {f: psi[f] for f in STABLE if psi[f] != "ok"} == {}, psi
    assert {f: ks[f] for f in STABLE if ks[f] == "alert"} == {}, ks
    assert "terminal_id" not in psi and "terminal_id" not in _levels(run, "js_distance")  # an id, not compared
    assert _levels(run, "adversarial_auc")["multivariate"] == "alert"
    tested = [f for f in run.report.features if f.statistic in TESTED]
    assert tested and all(f.pvalue is not None for f in tested), "every tested row is gated by its adjusted p-value"
    assert run.reference_performance is not None and run.reference_performance.n > 0
    assert run.report.reference_size == sum(
        1 for d in decisions if json.loads(d["_source"])["event_time"] < CURRENT.start.isoformat()
    )

    reader = read_topic(DRIFT_REPORTS)
    rows = publish(settings, runs, es)
    assert rows == len(run.rows()) == publish(settings, runs, es)  # a rerun overwrites: deterministic ids
    ids = [doc_id for doc_id, _ in run.rows()]
    assert es.count(index=DRIFT_INDEX, query={"ids": {"values": ids}})["count"] == rows == len(set(ids))
    crossed = es.search(
        index=DRIFT_INDEX,
        size=100,
        query={"bool": {"filter": [{"ids": {"values": ids}}, {"term": {"level": "alert"}}]}},
    )["hits"]["hits"]
    assert {"amount"} <= {h["_source"]["feature"] for h in crossed}
    assert all(h["_source"]["threshold"] is not None for h in crossed)
    assert all(h["_source"]["pvalue"] is not None for h in crossed if h["_source"]["statistic"] in TESTED)
    messages = [m for m in reader.poll(5.0) if m.key() == f"payments:{MODEL}".encode()]
    assert messages and DriftRun.model_validate_json(messages[-1].value()).crossed == run.crossed

    monkeypatch.setenv("STREAMSENSE_ES_URL", settings.elasticsearch_url)
    from streamsense.settings import get_settings

    get_settings.cache_clear()
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["drift", "report", "--since", "3650d", "--stream", "payments", "--out", str(out)])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert not re.search(r"(src|href)=\"?(https?:)?//", html), "the page must not load anything"
    chromium = shutil.which("chromium")
    assert chromium, "headless Chromium is needed: apt-get install -y chromium (make install does it)"
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", out.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    kinds = re.findall(r'<svg class="plot" data-kind="(\w+)"', dom)
    assert {"psi", "scores", "performance"} <= set(kinds), kinds
    assert dom.count("<polyline") >= 2 and dom.count('class="bar"') >= 20
    assert json.dumps(MODEL)[1:-1] in dom


def test_windows_that_end_at_the_newest_decision_end_just_after_it_and_not_at_all_without_one(
    es: Elasticsearch,
) -> None:
    index = f"streamsense-test-newest-{uuid.uuid4().hex[:8]}"
    assert newest_end(es, index) is None
    es.indices.create(index=index, mappings={"properties": {"event_time": {"type": "date"}}})
    try:
        assert newest_end(es, index) is None
        for time in ("2026-04-01T00:00:00Z", "2026-04-03T12:30:00.250Z", "2026-04-02T00:00:00Z"):
            es.index(index=index, id=time, document={"event_time": time}, refresh="wait_for")
        assert newest_end(es, index) == datetime(2026, 4, 3, 12, 30, 0, 251_000, tzinfo=UTC)
    finally:
        es.indices.delete(index=index)
