"""Keyboard slips for setting the out-of-scope gates: seeded, one edit per chosen word, short words untouched."""

import copy
import random

from streamsense.models.chat.intent import IntentClassifier
from streamsense.models.chat.typos import slip, with_typos


def _one_edit_apart(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) == 1:
        shorter, longer = sorted((a, b), key=len)
        return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    return len(diff) <= 1 or swapped


def test_a_slip_is_one_swap_drop_double_or_replacement() -> None:
    rng = random.Random(0)
    for word in ["hotel", "restaurant", "cambridge", "taxi"] * 50:
        assert _one_edit_apart(word, slip(word, rng))


def test_typos_are_seeded_and_touch_only_words_of_four_letters_or_more() -> None:
    text = "I need a taxi to the 12:30 train , at 5 pm ."
    assert with_typos(text, 0.5, random.Random(3)) == with_typos(text, 0.5, random.Random(3))
    assert with_typos(text, 0.0, random.Random(3)) == text
    typed = with_typos(text, 1.0, random.Random(3))
    for before, after in zip(text.split(), typed.split(), strict=True):
        if before.isalpha() and len(before) >= 4:
            assert _one_edit_apart(before, after)
        else:
            assert before == after


def test_gates_are_set_on_the_validation_sentences_with_typos(
    tiny_intent_model: IntentClassifier, intent_texts: dict[str, list[str]]
) -> None:
    """At quantile 0 every validation sentence, typed with the model's slips, passes both gates; the clean
    sentences alone would have set the coverage gate higher."""
    model = copy.deepcopy(tiny_intent_model)
    texts = [t for group in intent_texts.values() for t in group]
    labels = [label for label, group in intent_texts.items() for _ in group]
    model.calibrate(texts, labels, quantile=0.0)
    rng = random.Random(model.config.seed)
    typed = [with_typos(t, model.config.gate_typo_rate, rng) for t in texts]
    assert typed != texts
    assert all(p.reason != "out_of_scope" for p in model.predict_batch(typed, threshold=0.0))
    assert model.min_coverage < min(model.coverage(t) for t in texts)
