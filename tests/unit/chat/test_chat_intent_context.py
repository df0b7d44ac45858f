from streamsense.models.chat.dst import START, DialogueStateTracker, empty_state
from streamsense.models.chat.intent import FALLBACK, IntentPrediction
from streamsense.models.chat.intent_context import intents_in_context, predict_in_context

# "what's the phone number?": the text alone cannot say whose
REQUEST = [
    ("Restaurant-Request", 0.45),
    ("Hotel-Request", 0.3),
    ("Attraction-Request", 0.2),
    ("general-thank", 0.04),
    ("lost-property", 0.01),
]


def tracker() -> DialogueStateTracker:
    """Two domains and ``general``; conversations mostly stay in their domain."""
    model = DialogueStateTracker({"hotel-area": ["north"], "restaurant-area": ["north"]})
    dialogues = [["Hotel-Inform", "Hotel-Inform", "Hotel-Request", "general-thank"]] * 8 + [
        ["Restaurant-Inform", "Restaurant-Request", "general-bye"]
    ] * 8
    priors = {"Hotel-Inform": 50, "Restaurant-Inform": 50, "general-thank": 10, "Police-Inform": 5}
    return model.fit_context(dialogues, priors)


def test_a_request_that_names_no_domain_goes_to_the_conversations_domain() -> None:
    odds = tracker().context_odds({"domain": "hotel", "hypotheses": [{"domain": "hotel", "score": 0.0}]})
    ranked = intents_in_context(REQUEST, odds)
    assert ranked[0][0] == "Hotel-Request"
    assert abs(sum(p for _, p in ranked) - 1.0) < 1e-5


def test_the_beams_hypotheses_weigh_their_domains_by_score() -> None:
    model = tracker()
    sure = model.context_odds({"hypotheses": [{"domain": "hotel", "score": 0.0}]})
    both = [{"domain": "hotel", "score": 0.0}, {"domain": "restaurant", "score": 0.0}]
    torn = model.context_odds({"hypotheses": both})
    assert sure["hotel"] > torn["hotel"] > sure["restaurant"]
    assert sure["restaurant"] < torn["restaurant"]


def test_a_conversation_with_no_domain_yet_reads_the_odds_of_a_first_turn() -> None:
    model = tracker()
    assert model.context_odds(empty_state()) == model.context_odds({"domain": None})
    assert set(model.context_odds(empty_state())) == set(model.log_transitions[START])


def test_intents_of_classes_the_tracker_does_not_know_keep_their_odds() -> None:
    ranked = dict(intents_in_context(REQUEST, {"hotel": 4.0, "restaurant": 0.5, "attraction": 0.5, "general": 1.0}))
    unchanged = dict(intents_in_context(REQUEST, {}))
    assert unchanged == dict(REQUEST)
    ratio = ranked["lost-property"] / unchanged["lost-property"]
    assert abs(ranked["general-thank"] / unchanged["general-thank"] - ratio) < 1e-3, "both odds 1: same scaling"


def test_in_context_the_threshold_and_top_k_apply_and_out_of_scope_stays_out_of_scope() -> None:
    odds = {"hotel": 20.0, "restaurant": 0.1, "attraction": 0.1}
    confident = predict_in_context(IntentPrediction(FALLBACK, REQUEST, "low_confidence"), odds, 0.85, top_k=2)
    assert confident.label == "Hotel-Request" and confident.reason is None and len(confident.intents) == 2
    unsure = predict_in_context(IntentPrediction(FALLBACK, REQUEST, "low_confidence"), {}, 0.85, top_k=3)
    assert unsure.label == FALLBACK and unsure.reason == "low_confidence"
    outside = predict_in_context(IntentPrediction(FALLBACK, REQUEST, "out_of_scope"), odds, 0.85)
    assert outside.label == FALLBACK and outside.reason == "out_of_scope"


def test_a_class_that_no_training_dialogue_holds_gets_the_odds_of_the_least_likely_domain_they_hold() -> None:
    model = tracker()
    odds = model.context_odds({"domain": "hotel"})
    assert "police" not in model.dialogue_classes
    assert odds["police"] == odds["restaurant"] == min(odds["hotel"], odds["restaurant"])
    named = [("Police-Inform", 0.95), ("Hotel-Inform", 0.05)]  # "I need the police": it says so
    assert intents_in_context(named, odds)[0][0] == "Police-Inform"
