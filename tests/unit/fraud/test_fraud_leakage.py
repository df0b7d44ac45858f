import numpy as np

from streamsense.datasets.fraud_simulator import SimulatorConfig, simulate
from streamsense.models.fraud.features import FraudFeaturePipeline
from streamsense.models.fraud.online import OnlineFraudModel
from streamsense.models.fraud.replay import replay


def test_a_label_never_changes_the_features_or_online_score_of_its_own_event() -> None:
    sim = simulate(SimulatorConfig(n_customers=60, n_terminals=120, n_days=20, seed=1))
    base = replay(sim, FraudFeaturePipeline(), OnlineFraudModel(seed=0))
    i = len(sim) // 2
    sim.is_fraud[i] = not sim.is_fraud[i]
    flipped = replay(sim, FraudFeaturePipeline(), OnlineFraudModel(seed=0))
    np.testing.assert_array_equal(base.X[i], flipped.X[i])
    assert base.online_score[i] == flipped.online_score[i]
    before_arrival = sim.time_s < sim.label_time_s[i]
    np.testing.assert_array_equal(base.X[before_arrival], flipped.X[before_arrival])
    after_arrival = (sim.time_s > sim.label_time_s[i]) & (sim.customer == sim.customer[i])
    assert after_arrival.any()
    assert not np.array_equal(base.X[after_arrival], flipped.X[after_arrival])
