import numpy as np
import pytest

from streamsense.datasets.fraud_simulator import (
    SCENARIO_AMOUNT,
    SCENARIO_CUSTOMER,
    SCENARIO_TERMINAL,
    SimulatorConfig,
    iter_pairs,
    iter_timeline,
    simulate,
    timeline,
)
from streamsense.schemas.payments import Transaction, TransactionLabel

SMALL = SimulatorConfig(n_customers=400, n_terminals=800, n_days=60, seed=3)


@pytest.fixture(scope="module")
def sim():
    return simulate(SMALL)


def test_fraud_rate_is_below_one_percent_but_not_zero(sim) -> None:
    assert 0.001 < sim.is_fraud.mean() < 0.01


def test_same_seed_gives_identical_data_and_other_seed_differs(sim) -> None:
    again = simulate(SMALL)
    other = simulate(SimulatorConfig(n_customers=400, n_terminals=800, n_days=60, seed=4))
    for name in ("time_s", "customer", "terminal", "amount", "is_fraud", "label_time_s"):
        np.testing.assert_array_equal(getattr(sim, name), getattr(again, name))
    assert len(other) != len(sim) or not np.array_equal(other.amount, sim.amount)


def test_all_three_fraud_scenarios_are_present(sim) -> None:
    present = set(np.unique(sim.scenario).tolist())
    assert {SCENARIO_AMOUNT, SCENARIO_TERMINAL, SCENARIO_CUSTOMER} <= present
    assert (sim.amount[sim.scenario == SCENARIO_AMOUNT] > SMALL.amount_threshold).all()


def test_transactions_are_time_ordered_and_labels_arrive_after_them(sim) -> None:
    assert (np.diff(sim.time_s) >= 0).all()
    delay_days = (sim.label_time_s - sim.time_s) / 86_400
    assert (delay_days > 0).all()
    assert 0.5 < np.mean((delay_days >= 5) & (delay_days <= 9)) < 1.0


def test_rows_validate_as_schema_objects_with_label_arrival_time(sim) -> None:
    pairs = list(zip(range(50), iter_pairs(sim), strict=False))
    for _, (tx, label) in pairs:
        assert isinstance(tx, Transaction) and isinstance(label, TransactionLabel)
        assert label.transaction_id == tx.event_id and label.event_time > tx.event_time
        assert tx.age_band is not None and tx.gender is not None


def test_timeline_interleaves_each_label_after_its_transaction(sim) -> None:
    seen: set[int] = set()
    for code in timeline(sim).tolist():
        if code >= 0:
            seen.add(code)
        else:
            assert -code - 1 in seen
    first = next(iter_timeline(sim))
    assert isinstance(first, Transaction)
