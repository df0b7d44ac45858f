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
