"""Placeholder filling and the template split of the MultiWOZ utterances."""

import random
import re

from streamsense.datasets.multiwoz import MultiWOZ, fill_spans, intent_data, split_templates, value_lexicon


def test_filling_leaves_no_placeholder_and_uses_database_values(tiny_multiwoz: MultiWOZ) -> None:
    lexicon = value_lexicon(tiny_multiwoz)
    rng = random.Random(0)
    for group in tiny_multiwoz.templates.values():
        for template in group:
            text, slots, spans = fill_spans(template, lexicon, rng)
            assert not re.search(r"#[A-Z-]+#", text)
            for start, end, slot in spans:
                assert text[start:end] == slots[slot]
                assert slots[slot] in lexicon[slot]
    assert "acorn guest house" in lexicon["hotel-name"]
    assert "do n't care" not in lexicon["restaurant-time"]


def test_template_split_has_no_overlap_even_up_to_case_and_punctuation(tiny_multiwoz: MultiWOZ) -> None:
    split = split_templates(tiny_multiwoz.templates, seed=0, fractions=(0.5, 0.25))

    def keys(part: dict[str, list[str]]) -> set[str]:
        return {" ".join(re.findall(r"#[a-z-]+#|[^\W_]+", t.lower())) for g in part.values() for t in g}

    train, valid, test = keys(split.train), keys(split.valid), keys(split.test)
    assert not train & valid and not train & test and not valid & test


def test_templates_listed_under_two_intents_are_dropped(tiny_multiwoz: MultiWOZ) -> None:
    split = split_templates(tiny_multiwoz.templates, seed=0)
    assert split.dropped_ambiguous == 1
    every = [t for part in (split.train, split.valid, split.test) for g in part.values() for t in g]
    assert "I need a place to stay in the #HOTEL-INFORM-AREA# please ." not in every


def test_intent_data_is_deterministic_for_a_seed(tiny_multiwoz: MultiWOZ) -> None:
    first = intent_data(tiny_multiwoz, seed=3)
    second = intent_data(tiny_multiwoz, seed=3)
    assert [e.text for e in first.train] == [e.text for e in second.train]
    assert [e.text for e in first.test] == [e.text for e in second.test]
