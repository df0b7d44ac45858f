"""Knowledge graph and retrieval: a question returns its linked FAQ; the graph links FAQ to entities' values."""

from collections.abc import Callable
from pathlib import Path

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from streamsense.datasets.multiwoz import MultiWOZ
from streamsense.models.chat.gnn import GNNConfig
from streamsense.models.chat.knowledge import (
    KnowledgeRetriever,
    TfidfIndex,
    build_graph,
    char_vectorizer,
    leave_one_out,
    load_faq,
    load_fresh_questions,
)

FAQ = [
    {
        "id": "faq:parking",
        "domain": "hotel",
        "intents": ["Hotel-Request"],
        "attribute": ["parking", "yes"],
        "question": "Do hotels have free parking?",
        "answer": "Most have free parking.",
        "paraphrases": ["Can I park my car at the hotel?"],
        "held_out": ["is parking free"],
    },
    {
        "id": "faq:table",
        "domain": "restaurant",
        "intents": ["Restaurant-Inform"],
        "question": "How do I book a table at a restaurant?",
        "answer": "Tell me the day, time and people.",
        "paraphrases": ["Can you reserve a table for dinner?"],
        "held_out": ["reserve a table"],
    },
]


@pytest.fixture
def retriever(tiny_multiwoz: MultiWOZ) -> KnowledgeRetriever:
    graph = build_graph(tiny_multiwoz.databases, FAQ)
    return KnowledgeRetriever.train(graph, GNNConfig(dim=16, epochs=20), graph_weight=0.1)


def test_graph_links_faq_to_intent_domain_and_the_values_of_entities(tiny_multiwoz: MultiWOZ) -> None:
    graph = build_graph(tiny_multiwoz.databases, FAQ)
    relations = {(h, d["relation"], t) for h, t, d in graph.edges(data=True)}
    assert ("faq:parking", "faq_value", "value:parking=yes") in relations
    assert ("faq:parking", "faq_intent", "intent:Hotel-Request") in relations
    assert ("hotel:acorn guest house", "has_parking", "value:parking=yes") in relations


def test_question_retrieves_its_linked_faq_first(retriever: KnowledgeRetriever) -> None:
    state = {"domain": "hotel", "slots": {"hotel-area": "north"}}
    hits = retriever.retrieve("will I be able to park at the hotel", state, [("Hotel-Request", 0.9)], k=3)
    assert hits[0].node_id == "faq:parking"
    assert hits[0].kind == "faq"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_entity_named_in_the_message_is_retrieved(retriever: KnowledgeRetriever) -> None:
    hits = retriever.retrieve("tell me about the golden wok", {"domain": "restaurant", "slots": {}}, None, k=3)
    assert "restaurant:golden wok" in [h.node_id for h in hits]


def test_save_load_round_trip_gives_the_same_hits(retriever: KnowledgeRetriever, tmp_path: Path) -> None:
    retriever.save(tmp_path / "knowledge")
    loaded = KnowledgeRetriever.load(tmp_path / "knowledge")
    question = "can you reserve a table"
    assert loaded.retrieve(question) == retriever.retrieve(question)


def test_gnn_link_probability_ties_each_faq_to_its_own_domain(retriever: KnowledgeRetriever) -> None:
    parking = retriever.candidates.index("faq:parking")
    hotel, restaurant = retriever.index["domain:hotel"], retriever.index["domain:restaurant"]
    assert retriever.affinity.shape == (len(retriever.candidates), len(retriever.node_ids))
    assert retriever.affinity[parking, hotel] > retriever.affinity[parking, restaurant]


def test_graph_prior_moves_the_domain_faq_up(retriever: KnowledgeRetriever) -> None:
    state = {"domain": "restaurant", "slots": {}}
    with_graph = retriever.scores("is it free", state, [("Restaurant-Inform", 0.9)])
    retriever.graph_weight = 0.0
    without = retriever.scores("is it free", state, [("Restaurant-Inform", 0.9)])
    table = retriever.candidates.index("faq:table")
    assert with_graph[table] - without[table] > 0


def test_pooled_document_matches_words_spread_over_phrasings(tiny_multiwoz: MultiWOZ) -> None:
    """ "car" is in one phrasing and "free" in another: only the pooled document holds both."""
    graph = build_graph(tiny_multiwoz.databases, FAQ)
    retriever = KnowledgeRetriever.train(graph, GNNConfig(dim=16, epochs=20), graph_weight=0.0)
    parts = retriever.score_parts("free spot for my car")
    parking = retriever.candidates.index("faq:parking")
    assert parts[1][parking] > parts[0][parking]
    retriever.document_weight = 1.0
    assert retriever.retrieve("free spot for my car", k=1)[0].node_id == "faq:parking"


def test_leave_one_out_scores_every_setting(tiny_multiwoz: MultiWOZ) -> None:
    graph = build_graph(tiny_multiwoz.databases, FAQ)
    retriever = KnowledgeRetriever.train(graph, GNNConfig(dim=16, epochs=20), graph_weight=0.0)
    settings = [(0.0, 0.0), (0.4, 1.0)]
    result = leave_one_out(graph, retriever.embeddings, retriever.node_ids, settings, retriever.affinity)
    assert set(result) == set(settings)
    assert all(0.0 <= r["mrr"] <= 1.0 and 0.0 <= r["hits_at_3"] <= 1.0 for r in result.values())


@pytest.mark.parametrize(
    "vectorizer",
    [
        char_vectorizer,
        lambda: TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english"),
        lambda: TfidfVectorizer(),
    ],
)
@pytest.mark.parametrize(
    "text",
    [
        "Can I park my car, car and car at the hotel?",
        "reserve a table for dinner at the golden wok",
        "zzz qqq",  # no known term
        "",
    ],
)
def test_tfidf_index_equals_sklearn_transform_bit_for_bit(vectorizer: Callable[[], TfidfVectorizer], text: str) -> None:
    """The per-message cosine skips sklearn's transform; scores, and so rankings, must not move by one ulp."""
    documents = [p for entry in FAQ for p in (entry["question"], *entry["paraphrases"])] + ["golden wok", "acorn"]
    fitted = vectorizer()
    index = TfidfIndex(fitted, documents)  # fits ``fitted`` on the documents
    expected = (index.matrix @ fitted.transform([text]).T).toarray().ravel()
    assert index.cosine(index.terms(text)).tobytes() == expected.tobytes()


def test_fresh_questions_name_known_entries_and_repeat_none_of_their_paraphrases() -> None:
    faq = {entry["id"]: entry for entry in load_faq()}
    fresh = load_fresh_questions()
    assert set(fresh) == set(faq)
    for faq_id, questions in fresh.items():
        entry = faq[faq_id]
        seen = {q.lower().rstrip("?. ") for q in [entry["question"], *entry["paraphrases"], *entry["held_out"]]}
        assert not seen & {q.lower().rstrip("?. ") for q in questions}, faq_id


def test_tracked_values_reach_the_graph_in_its_own_spelling_and_a_taxis_ends_reach_their_places(
    retriever: KnowledgeRetriever,
) -> None:
    """The tracker writes "guest house" where the database writes "guesthouse": the value was dropped from the
    context, and a taxi to a hotel named no node."""
    state = {"domain": "hotel", "slots": {"hotel-type": "guest house", "taxi-destination": "acorn guest house"}}
    assert retriever.context_nodes(state, None) == ["domain:hotel", "value:type=guesthouse", "hotel:acorn guest house"]


def test_a_message_with_nothing_in_common_with_any_phrasing_gets_no_hits(retriever: KnowledgeRetriever) -> None:
    """An empty message, or one in a script the FAQs are not written in, got three hits from the graph prior."""
    state = {"domain": "hotel", "slots": {"hotel-area": "north"}}
    for text in ("", "   ", "我想订一家酒店"):
        assert retriever.retrieve(text, state, [("Hotel-Request", 0.9)], k=3) == []
    assert retriever.retrieve("parking ?", state, [("Hotel-Request", 0.9)], k=3)


@pytest.mark.parametrize(
    "text", ["does it have parking ?", "what's their phone number ?", "is the hotel nice ?", "is this b and b nice ?"]
)
def test_a_follow_up_about_the_place_the_state_names_ranks_that_place_in_the_top_3(
    retriever: KnowledgeRetriever, text: str
) -> None:
    """The graph prior links an entity weakly to itself: the audit found the named hotel 14th to 28th."""
    state = {"domain": "hotel", "slots": {"hotel-area": "north", "hotel-name": "acorn guest house"}}
    hits = [h.node_id for h in retriever.retrieve(text, state, [("Hotel-Request", 0.9)], k=3)]
    assert "hotel:acorn guest house" in hits
    if "parking" in text:
        assert "faq:parking" in hits


@pytest.mark.parametrize(
    "text",
    ["parking ?", "is parking free ?", "free wifi ?", "any parking ?", "what's the postcode ?", "how much is a room ?"],
)
def test_an_attribute_question_naming_no_place_ranks_the_place_the_state_names_first(
    retriever: KnowledgeRetriever, text: str
) -> None:
    """After the user named one hotel, "parking?" means that hotel's: without a word referring back it got none of
    its facts (a stop 39 audit)."""
    state = {"domain": "hotel", "slots": {"hotel-area": "north", "hotel-name": "acorn guest house"}}
    hits = [h.node_id for h in retriever.retrieve(text, state, [("Hotel-Request", 0.9)], k=3)]
    assert hits[0] == "hotel:acorn guest house"
    if "parking" in text:
        assert "faq:parking" in hits


@pytest.mark.parametrize(
    "text",
    [
        "do hotels in cambridge have parking ?",
        "which ones have parking ?",
        "anything with free wifi ?",
        "wifi in the centre ?",
        "a 4 star with parking ?",
        "is there parking at the train station ?",
        "how much does a taxi cost ?",
        "thanks , that is all .",
    ],
)
def test_a_general_question_a_search_or_another_domain_is_not_pinned_to_the_place_the_state_names(
    retriever: KnowledgeRetriever, text: str
) -> None:
    state = {"domain": "hotel", "slots": {"hotel-name": "acorn guest house"}}
    assert retriever.score_parts(text, state)[0][retriever.tracked_places(state)[0]] < 1.0


def test_a_message_naming_another_place_ranks_that_place_and_not_the_one_the_state_names(
    retriever: KnowledgeRetriever,
) -> None:
    state = {"domain": "hotel", "slots": {"hotel-name": "acorn guest house"}}
    for text in ("does gonville hotel have parking ?", "parking at gonville hotel ?"):
        hits = [h.node_id for h in retriever.retrieve(text, state, [("Hotel-Request", 0.9)], k=3)]
        assert hits[0] == "hotel:gonville hotel"
        assert "hotel:acorn guest house" not in hits


def test_a_search_naming_a_value_is_not_pinned_but_a_question_about_the_attribute_is(
    retriever: KnowledgeRetriever,
) -> None:
    """Values come from the graph: "chinese food?" looks for a chinese restaurant, "what food?" asks this one's."""
    state = {"domain": "restaurant", "slots": {"restaurant-name": "golden wok"}}
    tracked = retriever.tracked_places(state)[0]
    assert retriever.score_parts("chinese food ?", state)[0][tracked] < 1.0
    assert retriever.score_parts("what type of food ?", state)[0][tracked] == 1.0


@pytest.mark.parametrize("text", ["parking ?", "what's the postcode ?", "does it have parking ?"])
def test_without_a_place_named_in_the_states_domain_a_question_scores_as_with_no_state(
    retriever: KnowledgeRetriever, text: str
) -> None:
    """Nothing is pinned: a restaurant named while the hotel domain is active answers no hotel question."""
    for state in ({"domain": "hotel", "slots": {"hotel-area": "north"}}, {"domain": "hotel", "slots": {}}):
        state["slots"]["restaurant-name"] = "golden wok"
        phrasing, pooled, _ = retriever.score_parts(text, state)
        bare, bare_pooled, _ = retriever.score_parts(text)
        assert (phrasing == bare).all() and (pooled == bare_pooled).all()
        assert phrasing[retriever.entity_rows].max() < 1.0


def test_the_place_the_state_names_is_its_domains_and_a_follow_up_in_another_domain_gets_none(
    retriever: KnowledgeRetriever,
) -> None:
    """A train booked after a hotel was named: "when does it leave?" ranked the hotel first (a stop 38 audit)."""
    slots = {"hotel-name": "acorn guesthouse", "restaurant-name": "golden wok"}
    names = {
        domain: [retriever.candidates[i] for i in retriever.tracked_places({"domain": domain, "slots": slots})]
        for domain in ("hotel", "train")
    }
    assert names == {"hotel": ["hotel:acorn guest house"], "train": []}


def test_a_place_written_as_users_spell_it_is_named(retriever: KnowledgeRetriever) -> None:
    """Only the database's spelling counted as naming it: "acorn guesthouse" ranked the entity under an FAQ."""
    for text in ("tell me about the acorn guesthouse", "tell me about the acorn guest house"):
        assert retriever.score_parts(text)[0][retriever.candidates.index("hotel:acorn guest house")] == 1.0


@pytest.mark.parametrize(
    ("domain", "text"),
    [
        ("hotel", "parking ?"),
        ("hotel", "where can i park ?"),
        ("hotel", "how many stars ?"),
        ("hotel", "how much is a room for 2 nights ?"),
        ("hotel", "what is the price range ?"),
        ("hotel", "address please"),
        ("restaurant", "what's the food like ?"),
        ("restaurant", "phone number ?"),
        ("attraction", "what is the entrance fee ?"),
        ("attraction", "opening hours ?"),
        ("attraction", "how much is a ticket ?"),
    ],
)
def test_an_attribute_the_domains_records_hold_asks_about_the_tracked_place(domain: str, text: str) -> None:
    assert KnowledgeRetriever.asks_about_tracked(text, domain)


@pytest.mark.parametrize(
    ("domain", "text"),
    [
        ("hotel", "what's the food like ?"),
        ("hotel", "is it open on sundays ?"),
        ("hotel", "what are the opening hours of the museum ?"),
        ("restaurant", "what are the opening hours ?"),
        ("restaurant", "what are the restaurant opening hours ?"),
        ("attraction", "does it have parking ?"),
        ("train", "what's the postcode ?"),
        ("taxi", "does it have wifi ?"),
    ],
)
def test_an_attribute_only_another_domains_records_hold_does_not_ask_about_the_tracked_place(
    domain: str, text: str
) -> None:
    """A hotel's record has no food and no opening hours, a restaurant's no opening hours: an FAQ answers those;
    trains and taxis name no place to pin."""
    assert not KnowledgeRetriever.asks_about_tracked(text, domain)


@pytest.mark.parametrize(
    "text",
    [
        "what do the star ratings mean ?",
        "how do i cancel a reservation ?",
        "can i cancel it ?",
        "can i order delivery ?",
        "is wheelchair access usual ?",
        "does it have wheelchair access ?",
        "does it include breakfast ?",
        "what time is check-in ?",
        "what time is check in ?",
        "can i book it online ?",
    ],
)
def test_a_process_or_what_something_means_or_what_is_usual_is_never_pinned_even_asked_of_the_place(
    text: str,
) -> None:
    """Booking, cancelling, checking in, delivery and access are FAQ topics: no hotel record answers them."""
    assert not KnowledgeRetriever.asks_about_tracked(text, "hotel")


@pytest.mark.parametrize(
    "text",
    [
        "how much is a ticket to london ?",
        "what's the phone number for the tourist office ?",
        "what's the phone number of the restaurant ?",
        "is there parking near the station ?",
    ],
)
def test_a_city_or_another_place_named_beside_the_attribute_is_not_a_follow_up(text: str) -> None:
    assert not KnowledgeRetriever.asks_about_tracked(text, "hotel")


def test_a_kind_of_place_refers_back_only_in_its_own_domain() -> None:
    """ "the museum" is the tracked attraction, never the tracked hotel; "the hotel" is the tracked hotel."""
    assert KnowledgeRetriever.asks_about_tracked("is the museum nice ?", "attraction")
    assert not KnowledgeRetriever.asks_about_tracked("is the museum nice ?", "hotel")
    assert KnowledgeRetriever.asks_about_tracked("is the hotel nice ?", "hotel")
