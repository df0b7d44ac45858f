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
