"""Intent classifier API: top-k, threshold, fallback, few-shot intents, EWC, quantization, save/load."""

import copy
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from streamsense.models.chat.featurize import hashes
from streamsense.models.chat.intent import FALLBACK, IntentClassifier, LexicalHead, function_words


def test_predict_returns_top_k_sorted_calibrated_probabilities(tiny_intent_model: IntentClassifier) -> None:
    prediction = tiny_intent_model.predict("find me a cheap hotel in the north", threshold=0.0, top_k=3)
    assert len(prediction.intents) == 3
    probabilities = [p for _, p in prediction.intents]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in probabilities) and sum(probabilities) <= 1.0 + 1e-6
    assert prediction.label == "hotel"


def test_predict_batch_gives_each_text_what_predict_gives_it_alone(tiny_intent_model: IntentClassifier) -> None:
    texts = ["find me a cheap hotel in the north", "你好，我想订一家便宜的酒店", "", "a train to cambridge please"]
    for threshold in (0.0, 0.6, 1.01):
        batch = tiny_intent_model.predict_batch(texts, threshold=threshold, top_k=2)
        alone = [tiny_intent_model.predict(text, threshold=threshold, top_k=2) for text in texts]
        assert [(p.label, p.reason, [i for i, _ in p.intents]) for p in batch] == [
            (p.label, p.reason, [i for i, _ in p.intents]) for p in alone
        ]
        for got, expected in zip(batch, alone, strict=True):
            assert np.allclose([p for _, p in got.intents], [p for _, p in expected.intents], atol=1e-5)
    assert tiny_intent_model.predict_batch([]) == []


def test_threshold_above_confidence_gives_fallback(tiny_intent_model: IntentClassifier) -> None:
    prediction = tiny_intent_model.predict("find me a cheap hotel in the north", threshold=1.01)
    assert prediction.label == FALLBACK and prediction.reason == "low_confidence"
    assert prediction.intents[0][0] == "hotel"


def test_chinese_message_falls_back_instead_of_a_confident_intent(tiny_intent_model: IntentClassifier) -> None:
    prediction = tiny_intent_model.predict("你好，我想订一家便宜的酒店", threshold=0.0)
    assert prediction.label == FALLBACK and prediction.reason == "out_of_scope"


def test_add_intent_from_five_examples_recognises_a_paraphrase(tiny_intent_model: IntentClassifier) -> None:
    model = copy.deepcopy(tiny_intent_model)
    model.add_intent(
        "weather",
        [
            "what is the weather today",
            "will it rain tomorrow",
            "is it sunny outside",
            "how cold is it",
            "weather forecast",
        ],
    )
    assert "weather" in model.labels
    assert model.predict("will it rain today", threshold=0.0).intents[0][0] == "weather"
    assert model.predict("find me a cheap hotel", threshold=0.0).intents[0][0] == "hotel"


def test_removing_an_added_intent_gives_back_the_predictions_from_before_it_was_added(
    tiny_intent_model: IntentClassifier,
) -> None:
    model = copy.deepcopy(tiny_intent_model)
    texts = ["will it rain today", "find me a cheap hotel", "thanks a lot", "book a table for two at 19:00"]
    before = [model.predict(t, threshold=0.0) for t in texts]
    model.add_intent("weather", ["will it rain", "is it sunny", "weather today", "how cold is it", "forecast please"])
    model.add_intent("parking", ["where can i park", "is there parking", "car park", "parking space", "park my car"])
    model.remove_intent("weather")
    model.remove_intent("parking")
    assert model.labels == tiny_intent_model.labels
    assert [model.predict(t, threshold=0.0) for t in texts] == before


def test_only_an_intent_added_at_run_time_can_be_removed(tiny_intent_model: IntentClassifier) -> None:
    model = copy.deepcopy(tiny_intent_model)
    model.add_intent("weather", ["will it rain", "is it sunny", "weather today", "how cold is it", "forecast please"])
    model.add_intent("parking", ["where can i park", "is there parking", "car park", "parking space", "park my car"])
    model.remove_intent("weather")
    assert model.labels[-1] == "parking"
    assert model.predict("is there a car park", threshold=0.0).intents[0][0] == "parking"
    for name in (model.labels[0], "weather", "never-added"):
        with pytest.raises(ValueError, match="not added at run time"):
            model.remove_intent(name)


def test_ewc_reduces_forgetting_of_old_intents(
    intent_texts: dict[str, list[str]], make_config: Callable, make_corpus: Callable
) -> None:
    old_texts, old_labels = make_corpus(("hotel", "restaurant", "thank"))
    config = make_config(ewc_lambda=1e4, feedback_lr=0.5)
    base = IntentClassifier(config).fit(old_texts, old_labels, old_texts, old_labels)
    new_texts = intent_texts["train"]
    accuracy = {}
    for ewc in (False, True):
        model = copy.deepcopy(base)
        for _ in range(10):
            model.learn_many(new_texts, ["train"] * len(new_texts), ewc=ewc)
        predicted = model.predict_many(old_texts)
        accuracy[ewc] = sum(p == y for p, y in zip(predicted, old_labels, strict=True)) / len(old_labels)
    assert accuracy[True] > accuracy[False]


def test_feedback_steps_only_the_embedding_rows_that_moved_and_learns_what_stepping_them_all_learns(
    intent_texts: dict[str, list[str]], make_config: Callable, make_corpus: Callable
) -> None:
    texts, labels = make_corpus(("hotel", "restaurant", "thank"))
    base = IntentClassifier(make_config(ewc_lambda=1e3, feedback_lr=0.5)).fit(texts, labels, texts, labels)
    every_row = copy.deepcopy(base)
    every_row._moved_rows = lambda name, parameter, touched: None
    rows_only = copy.deepcopy(base)
    feedback = intent_texts["train"][:4] + texts[:2]
    for model in (every_row, rows_only):
        for text, intent in zip(feedback, ["train"] * 4 + labels[:2], strict=True):
            model.learn_one(text, intent)
    moved = rows_only.moved["embed.weight"]
    assert 0 < int(moved.sum()) < len(moved) // 4
    weight = rows_only.net.embed.weight.detach()
    assert torch.equal(weight[~moved], base.net.embed.weight.detach()[~moved])
    assert torch.allclose(weight, every_row.net.embed.weight.detach(), atol=1e-5)
    probe = intent_texts["train"][4:] + texts[2:6]
    assert rows_only.predict_many(probe) == every_row.predict_many(probe)


def test_learn_one_with_an_unknown_intent_adds_it(tiny_intent_model: IntentClassifier) -> None:
    model = copy.deepcopy(tiny_intent_model)
    model.learn_one("where is the lost property office", "lost-property")
    assert model.labels[-1] == "lost-property"


def test_int8_copy_keeps_predictions_of_the_float_model(
    tiny_intent_model: IntentClassifier, make_corpus: Callable
) -> None:
    texts, _ = make_corpus()
    quantized = tiny_intent_model.quantized()
    agree = sum(
        a == b for a, b in zip(quantized.predict_many(texts), tiny_intent_model.predict_many(texts), strict=True)
    )
    assert agree / len(texts) >= 0.9
    assert isinstance(tiny_intent_model.net.encoder[0], torch.nn.Linear)


def test_save_load_round_trip_gives_the_same_prediction(tiny_intent_model: IntentClassifier, tmp_path: Path) -> None:
    model = copy.deepcopy(tiny_intent_model)
    model.add_intent("weather", ["will it rain", "is it sunny", "weather today", "how cold is it", "forecast please"])
    model.save(tmp_path / "intent.pt")
    loaded = IntentClassifier.load(tmp_path / "intent.pt")
    text = "book a table for two at 19:00"
    assert loaded.predict(text) == model.predict(text)
    assert loaded.labels == model.labels
    assert loaded.fisher.keys() == model.fisher.keys()
    loaded.remove_intent("weather")
    assert loaded.labels == tiny_intent_model.labels


def test_lexical_head_gives_log_probabilities_and_abstains_on_new_intents(tiny_intent_model: IntentClassifier) -> None:
    assert tiny_intent_model.lexical is not None
    logp = tiny_intent_model.lexical.log_proba(tiny_intent_model._parts(["thanks a lot", "a cheap hotel"]))
    assert np.allclose(np.exp(logp).sum(axis=1), 1.0, atol=1e-5)
    trial = copy.deepcopy(tiny_intent_model)
    trial.add_intent("weather", ["is it raining", "will it rain today", "weather forecast", "is it sunny", "rain"])
    assert trial.logits(["will it rain tomorrow"]).shape == (1, len(trial.labels))
    assert trial.predict_many(["will it rain tomorrow"]) == ["weather"]


def test_lexical_head_handles_two_labels() -> None:
    texts = ["thanks a lot", "thank you", "many thanks", "a cheap hotel", "hotel in the north", "book a hotel"]
    labels = ["thank", "thank", "thank", "hotel", "hotel", "hotel"]
    parts = [hashes(t) % 1024 for t in texts]
    head = LexicalHead.fit(parts, np.array([0, 0, 0, 1, 1, 1]), 2, 1024, 10.0)
    assert head.coef.shape == (2, 1024)
    assert [["thank", "hotel"][i] for i in head.log_proba(parts).argmax(axis=1)] == labels


def test_coverage_gate_in_predict_reads_the_message_coverage(tiny_intent_model: IntentClassifier) -> None:
    """``predict`` hashes a message once for its scores and its coverage gate: the gate opens exactly at the
    message's ``coverage``."""
    model = copy.deepcopy(tiny_intent_model)
    model.min_similarity = -float("inf")
    text = "find me a cheap hotel in the north, zqxv"
    coverage = model.coverage(text)
    assert 0.0 < coverage < 1.0
    model.min_coverage = coverage
    assert model.predict(text, threshold=0.0).reason is None
    model.min_coverage = np.nextafter(coverage, 1.0)
    assert model.predict(text, threshold=0.0).reason == "out_of_scope"


def test_a_model_restored_from_a_snapshot_of_what_it_learned_goes_on_exactly_as_the_one_it_was_taken_from(
    tiny_intent_model: IntentClassifier, tmp_path: Path
) -> None:
    live = copy.deepcopy(tiny_intent_model)
    live.add_intent("weather", ["will it rain", "is it sunny", "weather today", "how cold is it", "forecast please"])
    live.learn_one("is it going to rain on my train", "weather")
    live.learn_one("a room for two nights", "hotel")
    torch.save(live.learned(), tmp_path / "learned.pt")
    restarted = copy.deepcopy(tiny_intent_model)
    restarted.restore(torch.load(tmp_path / "learned.pt", weights_only=True))
    parking = ["where can i park", "is there parking", "car park", "parking space", "park my car"]
    for model in (live, restarted):
        model.add_intent("parking", parking)
        model.learn_one("a table for four at noon", "restaurant")
        model.remove_intent("weather")
    texts = ["will it rain today", "a cheap hotel for two nights", "where do i park", "thanks a lot", "x y z"]
    assert restarted.labels == live.labels
    assert torch.equal(restarted.probabilities(texts), live.probabilities(texts))
    assert [restarted.predict(t) for t in texts] == [live.predict(t) for t in texts]


def test_a_snapshot_of_a_model_of_another_shape_is_refused_and_leaves_the_model_as_it_was(
    tiny_intent_model: IntentClassifier, make_config: Callable
) -> None:
    texts, labels = (
        ["a cheap hotel", "a hotel room", "thanks a lot", "many thanks"],
        ["hotel", "hotel", "thank", "thank"],
    )
    other = IntentClassifier(make_config(hidden=16)).fit(texts, labels, texts, labels)
    model = copy.deepcopy(tiny_intent_model)
    with pytest.raises(ValueError, match="another shape"):
        model.restore(other.learned())
    assert model.labels == tiny_intent_model.labels
    assert torch.equal(model.probabilities(texts), tiny_intent_model.probabilities(texts))


def test_function_words_are_the_commonest_training_words_at_the_least_share_that_gates_no_validation_sentence() -> None:
    texts = ["i need a hotel", "i need a taxi", "a table for two", "thank you", "i want a train"]
    # more than 0.3 of the sentences: "i" (3 of 5), "a" (4), "need" (2); no validation sentence is made of them
    assert function_words(texts, ["a hotel please"], (0.3, 0.5)) == {"i", "a", "need"}
    # "i need" would be gated at 0.3, so the share is 0.5, where "need" is no longer common
    assert function_words(texts, ["a hotel please", "i need"], (0.3, 0.5)) == {"i", "a"}
    assert function_words(texts, ["a"], (0.3, 0.5)) == frozenset()


def test_a_message_made_of_function_words_alone_is_out_of_scope_and_one_word_more_is_answered(
    tiny_intent_model: IntentClassifier, tmp_path: Path
) -> None:
    model = copy.deepcopy(tiny_intent_model)
    model.function_words = frozenset({"a", "the", "i"})
    assert [model.predict(t, threshold=0.0).reason for t in ("a", "I the A ?", "a hotel")] == [
        "out_of_scope",
        "out_of_scope",
        None,
    ]
    model.save(tmp_path / "intent.pt")
    assert IntentClassifier.load(tmp_path / "intent.pt").function_words == {"a", "the", "i"}


def test_an_intent_added_from_chinese_examples_covers_a_new_phrasing_of_it(tiny_intent_model: IntentClassifier) -> None:
    """Read as one word per sentence, a new phrasing shared too few n-grams with the examples and fell back."""
    model = copy.deepcopy(tiny_intent_model)
    model.add_intent("weather-zh", ["明天天气怎么样", "今天会下雨吗", "明天会不会下雨", "天气预报", "外面是晴天吗"])
    query = "后天会下雨吗"
    assert model.coverage(query) >= 0.8
    assert model.predict(query, threshold=0.0).intents[0][0] == "weather-zh"
    assert model.predict("你好，我想订一家便宜的酒店", threshold=0.0).reason == "out_of_scope"
