import numpy as np

from streamsense.models.drift.adversarial import AdversarialValidator

NAMES = ["amount", "hour", "velocity", "age"]


def test_same_distribution_gives_auc_near_half_and_no_named_feature() -> None:
    rng = np.random.default_rng(0)
    result = AdversarialValidator(n_splits=3, max_iter=50, n_repeats=2).evaluate(
        rng.normal(size=(400, 4)), rng.normal(size=(400, 4)), NAMES
    )
    assert abs(result.auc - 0.5) < 0.08
    assert result.level == "ok"
    assert result.top_features() == []


def test_shifted_feature_gives_high_auc_and_is_named() -> None:
    rng = np.random.default_rng(1)
    current = rng.normal(size=(400, 4))
    current[:, 2] += 2.0
    result = AdversarialValidator(n_splits=3, max_iter=50, n_repeats=2).evaluate(
        rng.normal(size=(400, 4)), current, NAMES
    )
    assert result.auc > 0.8
    assert result.level == "alert"
    assert result.top_features(k=1) == ["velocity"]
    assert len(result.fold_aucs) == 3


def test_same_seed_gives_same_result() -> None:
    rng = np.random.default_rng(2)
    ref, cur = rng.normal(size=(200, 2)), rng.normal(loc=0.5, size=(200, 2))
    validator = AdversarialValidator(n_splits=3, max_iter=30, n_repeats=1)
    assert validator.evaluate(ref, cur) == validator.evaluate(ref, cur)


def test_logistic_classifier_detects_and_names_a_location_shift() -> None:
    rng = np.random.default_rng(3)
    current = rng.normal(size=(300, 4))
    current[:, 0] += 1.5
    result = AdversarialValidator(n_splits=3, n_repeats=2, classifier="logistic").evaluate(
        rng.normal(size=(300, 4)), current, NAMES
    )
    assert result.auc > 0.8
    assert result.top_features(k=1) == ["amount"]
