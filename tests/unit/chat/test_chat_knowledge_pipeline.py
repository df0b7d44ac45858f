"""The chat path hands the knowledge lookup the state after the message: a follow-up reaches the place it names."""

from collections import Counter

import pytest

from streamsense.datasets.multiwoz import MultiWOZ, intent_data, value_lexicon
from streamsense.models.chat.dst import DialogueStateTracker
from streamsense.models.chat.gnn import GNNConfig
from streamsense.models.chat.intent import FALLBACK, IntentClassifier, IntentPrediction
from streamsense.models.chat.knowledge import KnowledgeRetriever, build_graph, load_faq
from streamsense.models.chat.pipeline import ChatPipeline


def tiny_pipeline(data: MultiWOZ, intent: IntentClassifier, faq: list[dict]) -> ChatPipeline:
    """The tiny tracker and graph; each turn's intents are handed in, as the stream worker hands a batch's."""
    corpus = intent_data(data, seed=0, train_copies=8)
    tracker = DialogueStateTracker(value_lexicon(data)).fit(
        ((e.text, e.intent, e.spans) for e in corpus.train + corpus.valid + corpus.test), c=4.0
    )
    tracker.fit_context(
        [["Hotel-Inform", "Hotel-Inform", "general-thank"], ["Restaurant-Inform", "general-thank"]],
        Counter(e.intent for e in corpus.train),
    )
    knowledge = KnowledgeRetriever.train(
        build_graph(data.databases, faq), GNNConfig(dim=16, epochs=20), graph_weight=0.1
    )
    return ChatPipeline(intent, tracker, knowledge)


@pytest.fixture
def pipeline(tiny_multiwoz: MultiWOZ, tiny_intent_model: IntentClassifier) -> ChatPipeline:
    faq = [e for e in load_faq() if e["domain"] in ("hotel", "restaurant")]
    return tiny_pipeline(tiny_multiwoz, tiny_intent_model, faq)


@pytest.fixture
def all_faq_pipeline(tiny_multiwoz: MultiWOZ, tiny_intent_model: IntentClassifier) -> ChatPipeline:
    """Every shipped FAQ entry: the audit's questions have their answers in other domains."""
    return tiny_pipeline(tiny_multiwoz, tiny_intent_model, load_faq())


NAMED = IntentPrediction("Hotel-Inform", [("Hotel-Inform", 0.97), ("Restaurant-Inform", 0.02), ("general-thank", 0.01)])
UNSURE = IntentPrediction(
    FALLBACK, [("Hotel-Inform", 0.4), ("general-thank", 0.35), ("Restaurant-Inform", 0.25)], "low_confidence"
)


def test_a_bare_attribute_question_after_a_named_hotel_reaches_that_hotel_and_a_general_one_does_not(
    pipeline: ChatPipeline,
) -> None:
    """The intent model is unsure of "parking?": the tracker keeps the hotel domain and the lookup reads that state."""
    state = pipeline.process(None, "I am looking for a hotel called acorn guest house .", intents=(NAMED, 0.0)).state
    assert (state["domain"], state["slots"]) == ("hotel", {"hotel-name": "acorn guest house"})
    for text in ("parking ?", "what's the postcode ?", "how much is a room ?"):
        result = pipeline.process(state, text, intents=(UNSURE, 0.0))
        assert result.knowledge[0]["node_id"] == "hotel:acorn guest house", text
    general = pipeline.process(state, "do hotels in cambridge have parking ?", intents=(UNSURE, 0.0)).knowledge
    assert "faq:hotel-parking" in [h["node_id"] for h in general]
    assert "hotel:acorn guest house" not in [h["node_id"] for h in general]


AUDIT = [
    ("What do the star ratings mean?", "faq:hotel-stars"),
    ("How do I cancel a reservation?", "faq:hotel-cancel"),
    ("Can I order delivery?", "faq:restaurant-takeaway"),
    ("What's the phone number for the tourist office?", None),
    ("Is wheelchair access usual?", "faq:attraction-accessibility"),
    ("What time is check-in?", "faq:hotel-checkin"),
    ("How much is a ticket to london?", "faq:train-tickets"),
    ("What's the food like?", None),
    ("What are the opening hours of the museum?", "faq:attraction-hours"),
]


@pytest.mark.parametrize(("text", "faq"), AUDIT)
def test_audit_questions_after_a_named_hotel_are_answered_by_their_faq_not_pinned_to_the_hotel(
    all_faq_pipeline: ChatPipeline, text: str, faq: str | None
) -> None:
    """The stop 39 audit: each ranked the tracked hotel first (1.15-1.18) above its FAQ."""
    state = all_faq_pipeline.process(
        None, "I am looking for a hotel called acorn guest house .", intents=(NAMED, 0.0)
    ).state
    result = all_faq_pipeline.process(state, text, intents=(UNSURE, 0.0))
    hits = [h["node_id"] for h in result.knowledge]
    assert result.state["domain"] == "hotel"
    assert "hotel:acorn guest house" not in hits
    if faq:
        assert hits[0] == faq


@pytest.mark.parametrize(
    ("text", "faq"),
    [
        ("parking ?", "faq:hotel-parking"),
        ("free wifi ?", "faq:hotel-wifi"),
        ("how many stars ?", "faq:hotel-stars"),
        ("does it have parking ?", "faq:hotel-parking"),
        ("what's the postcode ?", None),
    ],
)
def test_an_attribute_the_hotels_record_answers_pins_the_hotel_and_keeps_its_faq_in_the_top_3(
    all_faq_pipeline: ChatPipeline, text: str, faq: str | None
) -> None:
    state = all_faq_pipeline.process(
        None, "I am looking for a hotel called acorn guest house .", intents=(NAMED, 0.0)
    ).state
    hits = [h["node_id"] for h in all_faq_pipeline.process(state, text, intents=(UNSURE, 0.0)).knowledge]
    assert hits[0] == "hotel:acorn guest house"
    if faq:
        assert faq in hits
