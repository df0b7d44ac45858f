from datetime import UTC, datetime

from streamsense.models.fraud_baseline import AccountProfile, OnlineFraudBaseline

NIGHT = datetime(2026, 4, 1, 3, tzinfo=UTC)


def test_untrained_model_scores_the_prior_not_a_coin_flip():
    model = OnlineFraudBaseline(fraud_prior=0.01)
    x = model.features(50.0, NIGHT, AccountProfile(), distance=1.0)
    assert abs(model.predict_proba_one(x) - 0.01) < 1e-9


def test_fraud_labels_raise_the_score_of_similar_transactions():
    model = OnlineFraudBaseline()
    profile = AccountProfile()
    for i in range(200):
        legit = model.features(20.0 + i % 7, datetime(2026, 4, 1, 12, tzinfo=UTC), profile, distance=1.0)
        model.learn_one(legit, False)
        if i % 10 == 0:
            fraud = model.features(900.0, NIGHT, profile, distance=40.0)
            model.learn_one(fraud, True)
    suspicious = model.features(950.0, NIGHT, profile, distance=45.0)
    ordinary = model.features(22.0, datetime(2026, 4, 1, 12, tzinfo=UTC), profile, distance=1.0)
    assert model.predict_proba_one(suspicious) > 0.5 > model.predict_proba_one(ordinary)


def test_explanation_names_the_largest_margin_terms():
    model = OnlineFraudBaseline()
    for i in range(50):
        model.learn_one({"a": float(i % 2), "b": 0.0}, bool(i % 2))
    terms = model.explain_one({"a": 1.0, "b": 0.0}, top=2)
    assert terms[0][0] == "a"
    assert abs(terms[0][2]) >= abs(terms[1][2])


def test_account_profile_round_trips_and_tracks_the_mean():
    profile = AccountProfile()
    profile.update(10.0, NIGHT)
    profile.update(30.0, NIGHT)
    restored = AccountProfile.from_dict(profile.to_dict())
    assert restored.count == 2
    assert restored.mean_amount == 20.0
    assert AccountProfile.from_dict(None) == AccountProfile()
