from streamsense.models.drift.calibration import adversarial_calibration, statistic_calibration


def test_thresholds_stay_quiet_without_shift_and_fire_on_a_large_shift() -> None:
    quiet, shifted = statistic_calibration(sizes=[1000], shifts=[0.0, 1.0], trials=5)
    assert quiet["psi_alert_rate"] == 0.0 and quiet["ks_alert_rate"] == 0.0
    assert shifted["psi_alert_rate"] == 1.0 and shifted["ks_counts_alert_rate"] == 1.0
    assert quiet["mean_psi"] < shifted["mean_psi"]


def test_calibration_is_reproducible_for_a_seed() -> None:
    assert statistic_calibration([200], [0.5], trials=3, seed=7) == statistic_calibration(
        [200], [0.5], trials=3, seed=7
    )


def test_adversarial_calibration_names_a_strongly_shifted_feature() -> None:
    rows = adversarial_calibration(n=300, shifts=[2.0], trials=1, n_features=3)
    assert [row["classifier"] for row in rows] == ["hgb", "logistic"]
    for row in rows:
        assert row["mean_auc"] > 0.8
        assert row["shifted_feature_named_rate"] == 1.0
