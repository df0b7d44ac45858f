"""The chat path hands the knowledge lookup the state after the message: a follow-up reaches the place it names."""

from collections import Counter

import pytest

from streamsense.datasets.multiwoz import MultiWOZ, intent_data, value_lexicon
from streamsense.models.chat.dst import DialogueStateTracker
from streamsense.models.chat.gnn import GNNConfig
from streamsense.models.chat.intent import FALLBACK, IntentClassifier, IntentPrediction
from streamsense.models.chat.knowledge import KnowledgeRetriever, build_graph, load_faq
from streamsense.models.chat.pipeline import ChatPipeline


@pytest.fixture
def pipeline(tiny_multiwoz: MultiWOZ, tiny_intent_model: IntentClassifier) -> ChatPipeline:
    """The tiny tracker and graph; each turn's intents are handed in, as the stream worker hands a batch's."""
    corpus = intent_data(tiny_multiwoz, seed=0, train_copies=8)
    tracker = DialogueStateTracker(value_lexicon(tiny_multiwoz)).fit(
        ((e.text, e.intent, e.spans) for e in corpus.train + corpus.valid + corpus.test), c=4.0
    )
    tracker.fit_context(
        [["Hotel-Inform", "Hotel-Inform", "general-thank"], ["Restaurant-Inform", "general-thank"]],
        Counter(e.intent for e in corpus.train),
    )
    faq = [e for e in load_faq() if e["domain"] in ("hotel", "restaurant")]
    knowledge = KnowledgeRetriever.train(
        build_graph(tiny_multiwoz.databases, faq), GNNConfig(dim=16, epochs=20), graph_weight=0.1
    )
    return ChatPipeline(tiny_intent_model, tracker, knowledge)


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
