"""The drift job: compare two windows of one stream's decisions in Elasticsearch, publish what moved.

For each model in the decision index: PSI and KS per numeric feature, Jensen–Shannon per categorical
feature and for the outcome mix, PSI and KS on the scores, AUC drop once labels exist, and adversarial
validation on a bounded sample. Each model's ``DriftRun`` goes to ``drift.reports`` (Kafka, key
``stream:model``) and, one document per feature and statistic, to the drift index.
"""

import logging
from datetime import UTC, datetime, timedelta

import numpy as np
from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk

from streamsense.models.drift.adversarial import AdversarialResult, AdversarialValidator
from streamsense.models.drift.aggregates import (
    adversarial_drift,
    categorical_drift,
    coarsen,
    numeric_drift,
    performance_drift,
)
from streamsense.models.drift.detectors import run_detectors
from streamsense.models.drift.report import DriftReport, FeatureDrift, Unchecked, holm_adjusted, presence_drift
from streamsense.models.drift.run import DriftRun, Window
from streamsense.settings import Settings
from streamsense.streams.connections import elasticsearch_options
from streamsense.streams.decision_log import apply_template
from streamsense.streams.drift_query import (
    DecisionWindowReader,
    feature_fields,
    models_in,
    plan,
    score_histogram,
)
from streamsense.streams.producer import EventProducer
from streamsense.streams.topics import DRIFT_INDEX, DRIFT_REPORTS, STREAMS, label_index

log = logging.getLogger(__name__)
MIN_ADVERSARIAL_ROWS = 20


def trailing_windows(window_s: float, now: datetime | None = None) -> tuple[Window, Window]:
    """The last ``window_s`` seconds (current) and the same length just before it (reference)."""
    end = now or datetime.now(UTC)
    length = timedelta(seconds=window_s)
    return Window(start=end - 2 * length, end=end - length), Window(start=end - length, end=end)


def _adversarial(
    reader: DecisionWindowReader,
    index: str,
    model: str,
    reference: Window,
    current: Window,
    names: list[str],
    size: int,
) -> AdversarialResult | None:
    """Reference-vs-current classifier on a bounded sample of each window (the only place rows are fetched)."""
    if not names or size <= 0:
        return None
    ref_x = reader.sample(index, model, reference, names, size)
    cur_x = reader.sample(index, model, current, names, size, seed=1)
    keep = ~(np.all(np.isnan(ref_x), axis=0) | np.all(np.isnan(cur_x), axis=0))
    if not keep.any() or min(len(ref_x), len(cur_x)) < MIN_ADVERSARIAL_ROWS:
        return None
    kept = [n for n, k in zip(names, keep, strict=True) if k]
    return AdversarialValidator(n_splits=3, max_iter=50, n_repeats=2).evaluate(ref_x[:, keep], cur_x[:, keep], kept)


def compare_model(
    reader: DecisionWindowReader, stream: str, model: str, reference: Window, current: Window, settings: Settings
) -> DriftRun | None:
    """One model's DriftRun, or None when a window holds fewer than ``drift_min_docs`` decisions."""
    index = STREAMS[stream].index
    numeric, categorical = feature_fields(reader.es, index)
    p = plan(reader.es, index, model, reference, current, numeric, categorical, settings.drift_max_categories)
    ref = reader.counts(index, model, reference, p)
    if ref.n < settings.drift_min_docs:
        log.info("drift %s/%s: %d reference decisions, fewer than %d", stream, model, ref.n, settings.drift_min_docs)
        return None
    cur = reader.counts(index, model, current, p)
    if cur.n < settings.drift_min_docs:
        log.info("drift %s/%s: %d current decisions, fewer than %d", stream, model, cur.n, settings.drift_min_docs)
        return None
    rows: list[FeatureDrift] = []
    for name in p.psi_edges:
        if sum(ref.psi[name]) and sum(cur.psi[name]):
            rows += numeric_drift(name, ref.psi[name], cur.psi[name], ref.ks[name], cur.ks[name])
    for name in p.categorical:
        if sum(ref.terms[name].values()) and sum(cur.terms[name].values()):
            rows.append(categorical_drift(name, ref.terms[name], cur.terms[name]))
    for name in p.fields:
        presence = presence_drift(name, (ref.present[name], ref.n), (cur.present[name], cur.n))
        if presence is not None:
            rows.append(presence)
    rows += numeric_drift("score", coarsen(ref.score, 2), coarsen(cur.score, 2), ref.score, cur.score)
    rows.append(categorical_drift("outcome", ref.outcome, cur.outcome))
    errors, split = reader.errors(label_index(stream), model, reference, current, settings.drift_sample_size * 20)
    ref_perf = reader.performance(label_index(stream), model, reference)
    cur_perf = reader.performance(label_index(stream), model, current)
    for metric in ("auc", "accuracy"):
        perf = performance_drift(metric, ref_perf, cur_perf)
        if perf is not None:
            rows.append(perf)
    top: list[str] = []
    adversarial = _adversarial(reader, index, model, reference, current, list(p.psi_edges), settings.drift_sample_size)
    if adversarial is not None:
        rows.append(adversarial_drift(adversarial))
        top = adversarial.top_features()
    # a feature the current window holds and the reference does not has nothing to be compared with; one neither holds
    # is not this model's (the index's fields are every model's), and stays out of its report
    unchecked: dict[str, Unchecked] = {
        name: "no_reference_values" for name in p.fields if not ref.present.get(name) and cur.present.get(name)
    }
    report = DriftReport(
        model=model,
        reference_size=ref.n,
        current_size=cur.n,
        features=holm_adjusted(rows),
        unchecked=unchecked,
    )
    return DriftRun(
        stream=stream,
        model=model,
        reference=reference,
        current=current,
        report=report,
        score_histogram=score_histogram(p, ref, cur),
        reference_performance=ref_perf,
        current_performance=cur_perf,
        adversarial_top_features=top,
        error_detectors=run_detectors(errors, split) if errors else {},
    )


def run_drift(
    settings: Settings, stream: str, reference: Window, current: Window, es: Elasticsearch | None = None
) -> list[DriftRun]:
    """Compare the windows for every model of ``stream``; returns the runs (without publishing them)."""
    own = es is None
    client = es or Elasticsearch(**elasticsearch_options(settings), request_timeout=60)
    try:
        index = STREAMS[stream].index
        if not client.indices.exists(index=index):
            return []
        reader = DecisionWindowReader(client)
        runs = [
            compare_model(reader, stream, m, reference, current, settings)
            for m in models_in(client, index, [reference, current])
        ]
        return [r for r in runs if r is not None]
    finally:
        if own:
            client.close()


def publish(settings: Settings, runs: list[DriftRun], es: Elasticsearch | None = None) -> int:
    """Send each run to ``drift.reports`` and its rows to the drift index; returns the number of rows indexed."""
    if not runs:
        return 0
    producer = EventProducer(settings)
    for run in runs:
        producer.send(DRIFT_REPORTS, f"{run.stream}:{run.model}", run)
    producer.flush()
    own = es is None
    client = es or Elasticsearch(**elasticsearch_options(settings), request_timeout=60)
    try:
        apply_template(client, "streamsense-drift")
        actions = [
            {"_op_type": "index", "_index": DRIFT_INDEX, "_id": doc_id, "_source": doc}
            for run in runs
            for doc_id, doc in run.rows()
        ]
        indexed, _ = bulk(client, actions, refresh="wait_for")
        return indexed
    finally:
        if own:
            client.close()
