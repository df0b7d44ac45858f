"""Dialogue state tracker: slots accumulate across turns, state stays JSON-able, input state is untouched."""

import json
from pathlib import Path

import pytest

from streamsense.datasets.multiwoz import MultiWOZ, intent_data, value_lexicon
from streamsense.models.chat.dst import DialogueStateTracker, empty_state, joint_goal_accuracy


@pytest.fixture
def tracker(tiny_multiwoz: MultiWOZ) -> DialogueStateTracker:
    corpus = intent_data(tiny_multiwoz, seed=0, train_copies=8)
    examples = corpus.train + corpus.valid + corpus.test
    return DialogueStateTracker(value_lexicon(tiny_multiwoz)).fit(
        ((e.text, e.intent, e.spans) for e in examples), c=4.0
    )


def test_slots_accumulate_across_turns(tracker: DialogueStateTracker) -> None:
    state = empty_state()
    state = tracker.update(state, "I need a place to stay in the north please .", "Hotel-Inform")
    state = tracker.update(state, "Can you find me a moderate hotel ?", "Hotel-Inform")
    state = tracker.update(state, "Thank you so much .", "general-thank")
    assert state["slots"] == {"hotel-area": "north", "hotel-price": "moderate"}
    assert state["domain"] == "hotel"
    assert state["turn_count"] == 3
    assert state["active_intent"] == "general-thank"


def test_update_is_pure_and_state_is_json_able(tracker: DialogueStateTracker) -> None:
    before = empty_state()
    after = tracker.update(before, "I want italian food in the centre .", [("Restaurant-Inform", 0.97)])
    assert before == empty_state()
    assert json.loads(json.dumps(after)) == after
    assert after["slots"] == {"restaurant-food": "italian", "restaurant-area": "centre"}


def test_save_load_round_trip_keeps_assignments(tracker: DialogueStateTracker, tmp_path: Path) -> None:
    tracker.save(tmp_path / "dst")
    loaded = DialogueStateTracker.load(tmp_path / "dst")
    text = "A table for 2 at 18:45 on friday ."
    assert loaded.update(empty_state(), text, "Restaurant-Inform") == tracker.update(
        empty_state(), text, "Restaurant-Inform"
    )


def test_joint_goal_accuracy_counts_whole_state_matches() -> None:
    gold = [{"hotel-area": "north"}, {"hotel-area": "north", "hotel-stars": "4"}]
    assert joint_goal_accuracy([{"hotel-area": "north"}, {"hotel-area": "north"}], gold) == 0.5


def test_value_only_fills_slots_whose_lexicon_holds_it(tracker: DialogueStateTracker) -> None:
    (candidate,) = tracker.candidates("take me from golden wok please")
    assert candidate.slots == ["restaurant-name", "taxi-depart", "taxi-dest"]
    assert tracker.assign("take me from golden wok please", candidate, {"train": 1.0}) in {"none", *candidate.slots}


def test_two_values_of_one_turn_never_share_a_slot(tracker: DialogueStateTracker) -> None:
    text = "A table for 2 at 18:45 on friday ."
    candidates = tracker.candidates(text)
    labels = [label for label in tracker.assign_all(text, candidates, {"restaurant": 1.0}) if label != "none"]
    assert len(labels) == len(set(labels))


def test_current_domain_outweighs_a_confident_context_free_intent(tiny_multiwoz: MultiWOZ) -> None:
    tracker = DialogueStateTracker(value_lexicon(tiny_multiwoz), text_power=0.5, context_bonus=3.0)
    state = {**empty_state(), "domain": "hotel"}
    weights = tracker.domain_weights(state, [("Restaurant-Inform", 0.9), ("Hotel-Inform", 0.05)])
    assert max(weights, key=weights.__getitem__) == "hotel"
    assert abs(sum(weights.values()) - 1) < 1e-9
    assert DialogueStateTracker(value_lexicon(tiny_multiwoz)).domain_weights(state, [("general-thank", 1.0)]) == {
        "hotel": 1.0
    }


def test_context_prior_is_tuned_on_dialogues(tracker: DialogueStateTracker) -> None:
    turns = [
        [
            ("I need a place to stay in the north please .", [("Hotel-Inform", 0.9)], {"hotel-area": "north"}),
            ("how about centre", [("Restaurant-Inform", 0.8), ("Hotel-Inform", 0.2)], {"hotel-area": "centre"}),
        ]
    ]
    chosen = tracker.tune_context(turns, powers=(1.0,), bonuses=(0.0, 4.0))
    assert chosen["context_bonus"] == 4.0
    assert tracker.context_bonus == 4.0
