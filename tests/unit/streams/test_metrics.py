from streamsense.streams.metrics import WorkerMetrics


def _lag_series(metrics: WorkerMetrics) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["topic"], sample.labels["partition"]): sample.value
        for family in metrics.lag.collect()
        for sample in family.samples
    }


def test_a_partition_given_up_in_a_rebalance_loses_its_lag_series_and_the_held_ones_keep_theirs() -> None:
    metrics = WorkerMetrics()
    metrics.set_lag({("payments.transactions", 0): 5, ("payments.transactions", 1): 7})
    metrics.set_lag({("payments.transactions", 1): 2, ("payments.labels", 1): 0})
    assert _lag_series(metrics) == {("payments.transactions", "1"): 2.0, ("payments.labels", "1"): 0.0}
    metrics.set_lag({})
    assert _lag_series(metrics) == {}
    assert b"streamsense_consumer_lag{" not in metrics.expose()


def test_a_feature_or_model_the_last_drift_run_did_not_read_loses_its_psi_series() -> None:
    """Its old value kept FeatureDriftPSIHigh firing after the drift had gone, or the model's traffic had."""
    metrics = WorkerMetrics()
    metrics.set_drift_psi({("fraud", "amount"): 0.6, ("fraud", "hour"): 0.0})
    metrics.set_drift_psi({("fraud", "hour"): 0.3})
    series = {(s.labels["model"], s.labels["feature"]): s.value for f in metrics.drift_psi.collect() for s in f.samples}
    assert series == {("fraud", "hour"): 0.3}
    metrics.set_drift_psi({})
    assert b"streamsense_drift_psi{" not in metrics.expose()
