"""Dialogue state tracker: slots accumulate across turns, state stays JSON-able, input state is untouched."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from streamsense.datasets.multiwoz import MultiWOZ, value_lexicon
from streamsense.models.chat.dst import (
    MAX_VALUES,
    NEGATED,
    NONE,
    WORD,
    Candidate,
    DialogueStateTracker,
    empty_state,
    joint_goal_accuracy,
    spellings,
)
from streamsense.models.chat.intent import FALLBACK, IntentPrediction
from streamsense.models.chat.intent_context import intents_in_context
from streamsense.models.chat.training import tracker_input


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


def _with_context(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """Dialogues stay in one domain for a while; the intent model's prior is even."""
    dialogues = [["Hotel-Inform", "Hotel-Inform", "Hotel-Inform", "general-thank"]] * 5
    dialogues += [["Restaurant-Inform", "Restaurant-Inform", "Restaurant-Inform", "general-thank"]] * 5
    counts = {"Hotel-Inform": 10, "Restaurant-Inform": 10, "general-thank": 10}
    return tracker.fit_context(dialogues, counts)


def test_transitions_and_priors_are_log_probabilities(tracker: DialogueStateTracker) -> None:
    _with_context(tracker)
    for row in tracker.log_transitions.values():
        assert abs(sum(math.exp(v) for v in row.values()) - 1) < 1e-9
    assert tracker.log_transitions["hotel"]["hotel"] > tracker.log_transitions["hotel"]["restaurant"]
    assert abs(sum(math.exp(v) for v in tracker.log_priors.values()) - 1) < 1e-9


def test_later_turns_revise_an_ambiguous_first_turn(tracker: DialogueStateTracker) -> None:
    """A value said before the domain is clear lands in the domain the next turns make likely, not the first guess."""
    _with_context(tracker)
    state = tracker.update(
        empty_state(), "I need a place in the north please .", [("Restaurant-Inform", 0.6), ("Hotel-Inform", 0.4)]
    )
    assert state["slots"] == {"restaurant-area": "north"}
    state = tracker.update(state, "Book it for 2 people for 3 nights .", [("Hotel-Inform", 0.95)])
    assert state["domain"] == "hotel"
    assert state["slots"]["hotel-area"] == "north"
    assert "restaurant-area" not in state["slots"]
    assert len(state["hypotheses"]) <= tracker.beam


def test_general_turns_keep_the_domain_and_a_named_intent_is_certain(tracker: DialogueStateTracker) -> None:
    _with_context(tracker)
    assert tracker.turn_posterior("Hotel-Inform") == {"hotel": 1.0}
    assert tracker.turn_posterior("uncertain") == {"general": 1.0}
    state = tracker.update(empty_state(), "Can you find me a moderate hotel ?", "Hotel-Inform")
    state = tracker.update(state, "Thank you so much .", [("general-thank", 0.99)])
    assert state["domain"] == "hotel"


def test_powers_are_tuned_on_dialogues(tracker: DialogueStateTracker) -> None:
    _with_context(tracker)
    turns = [
        [
            (
                "I need a place in the north please .",
                [("Restaurant-Inform", 0.6), ("Hotel-Inform", 0.4)],
                {"hotel-area": "north"},
            ),
            ("Book it for 2 people .", [("Hotel-Inform", 0.9)], {"hotel-area": "north", "hotel-people": "2"}),
        ]
    ]
    chosen = tracker.tune(turns, emission_powers=(0.5, 1.0), prior_powers=(1.0,), change_penalties=(0.0, 3.0))
    assert chosen["emission_power"] == tracker.emission_power
    assert chosen["change_penalty"] == tracker.change_penalty
    assert 0.0 <= chosen["valid_joint_goal_accuracy"] <= 1.0


def test_a_filled_slot_is_not_overwritten_when_the_change_penalty_outweighs_the_fit(
    tracker: DialogueStateTracker,
) -> None:
    text = "A table for 2 at 18:45 on friday ."
    candidates = tracker.candidates(text)
    time = [c.value for c in candidates].index("18:45")
    filled = {"restaurant-time": "19:15"}
    tracker.change_penalty = 0.0
    assert tracker.assign_all(text, candidates, {"restaurant": 1.0}, filled)[time] == "restaurant-time"
    tracker.change_penalty = 100.0
    assert tracker.assign_all(text, candidates, {"restaurant": 1.0}, filled)[time] != "restaurant-time"
    assert tracker.assign_all(text, candidates, {"restaurant": 1.0}, {"restaurant-time": "18:45"})[time] == (
        "restaurant-time"
    )


def test_change_penalty_survives_save_load(tracker: DialogueStateTracker, tmp_path: Path) -> None:
    tracker.change_penalty = 2.0
    tracker.save(tmp_path / "dst")
    assert DialogueStateTracker.load(tmp_path / "dst").change_penalty == 2.0


def test_extensions_come_best_first_after_the_change_penalty(tracker: DialogueStateTracker) -> None:
    """The lazy beam fill yields every extension in the order a full sort by penalised score would (ties by
    position), each scored as it would be on its own."""
    _with_context(tracker)
    tracker.change_penalty = 3.0
    text = "something in the centre please"
    filled = {"domain": "restaurant", "slots": {"restaurant-area": "north"}, "score": 0.0}
    other = {"domain": "hotel", "slots": {}, "score": -0.5}
    options = [(-1.0, "restaurant", filled), (-1.2, "hotel", other), (-0.9, "restaurant", other), (-1.0, None, filled)]
    alone = [next(tracker._best_extensions(text, [option])) for option in options]
    expected = [alone[i] for i in sorted(range(len(options)), key=lambda i: -alone[i][0])]
    assert list(tracker._best_extensions(text, options)) == expected
    assert alone[0][2]["restaurant-area"] == "north"


def test_an_uncertain_message_hands_its_intents_to_the_tracker_only_with_a_database_value(
    tracker: DialogueStateTracker,
) -> None:
    ranked = [("Restaurant-Inform", 0.5), ("Hotel-Inform", 0.2)]
    for reason in ("out_of_scope", "low_confidence"):
        uncertain = IntentPrediction(FALLBACK, ranked, reason)
        assert tracker_input(uncertain, tracker, "I'm coming from golden wok .") == ranked
        assert tracker_input(uncertain, tracker, "a table at 7pm") == ranked
        assert tracker_input(uncertain, tracker, "no , that's fine") == FALLBACK
    assert tracker_input(IntentPrediction("Restaurant-Inform", ranked), tracker, "ok") == ranked


def test_a_time_written_7pm_and_missing_from_the_lexicon_fills_the_time_slot(tracker: DialogueStateTracker) -> None:
    assert "19:00" not in tracker.kinds
    state = tracker.update(empty_state(), "A table for 2 at 7pm on monday .", "Restaurant-Inform")
    assert state["slots"]["restaurant-time"] == "19:00"
    assert [c.value for c in tracker.candidates("at 19:00 or 24:00 , room 7")] == ["19:00", "7"]


def test_an_alias_is_recognised_as_its_value_and_survives_save_load(tiny_multiwoz: MultiWOZ, tmp_path: Path) -> None:
    lexicon = value_lexicon(tiny_multiwoz)
    tracker = DialogueStateTracker(lexicon, aliases={"center": "centre", "two": "2"})
    text = "a room in the Center for two"
    expected = [("centre", 14, 20), ("2", 25, 28)]
    assert [(c.value, c.start, c.end) for c in tracker.candidates(text)] == expected
    tracker.fit([(text, "Hotel-Inform", [(14, 20, "hotel-area")])] * 2 + [(text, "Hotel-Inform", [])])
    tracker.save(tmp_path / "dst")
    loaded = DialogueStateTracker.load(tmp_path / "dst")
    assert [(c.value, c.start, c.end) for c in loaded.candidates(text)] == expected
    with pytest.raises(ValueError, match="downtown"):
        DialogueStateTracker(lexicon, aliases={"downtown": "midtown"})


def test_a_values_words_read_near_it_are_those_of_the_whole_text_even_in_a_long_message(
    tracker: DialogueStateTracker,
) -> None:
    filler = "the 12:30 train , or is it 7:05 ? " * 9
    text = f"{filler}I want to stay in the north {filler} and a cheap one in the centre please {filler}".lower()
    candidates = tracker.candidates(text)
    assert len(candidates) >= 2 and len(text) > 3 * 256
    for candidate in candidates:
        left = WORD.findall(text[: candidate.start])[-6:]
        right = WORD.findall(text[candidate.end :])[:6]
        features = tracker.features(text, candidate, "hotel")
        assert [f[5:] for f in features if f.startswith("lbag=")] == left
        assert [f[5:] for f in features if f.startswith("rbag=")] == right


def test_a_message_repeating_a_value_is_read_up_to_its_first_values_only(tracker: DialogueStateTracker) -> None:
    text = "I want to stay in the north please ." + " north" * (MAX_VALUES + 10)
    assert len(tracker.candidates(text)) > MAX_VALUES
    longer = tracker.update(empty_state(), text + " north" * 200, "Hotel-Inform")
    assert longer == tracker.update(empty_state(), text, "Hotel-Inform")
    assert longer["slots"]


def test_a_domain_no_training_dialogue_holds_is_reached_from_the_start_as_the_least_likely_held_one(
    tracker: DialogueStateTracker,
) -> None:
    """Hospital and police: with smoothed counts alone, "I need a hospital" at 0.99 tracked no domain at all."""
    counts = {"Hotel-Inform": 40, "Train-Inform": 40, "Restaurant-Inform": 40, "Hospital-Inform": 5}
    tracker.fit_context([["Hotel-Inform", "Train-Inform"], ["Restaurant-Inform"], ["Train-Inform"]], counts)
    start = tracker.transitions_from(None)
    held = [start[c] for c in ("hotel", "train", "restaurant")]
    assert start["hospital"] == min(held) > tracker.log_transitions["start"]["hospital"]
    state = tracker.update(empty_state(), "I need a hospital .", [("Hospital-Inform", 0.99), ("general-greet", 0.01)])
    assert state["domain"] == "hospital"


def test_a_turn_that_says_it_changes_a_constraint_overwrites_it_whatever_the_change_penalty(
    tracker: DialogueStateTracker,
) -> None:
    """The penalty is for turns that restate nothing: "actually, make it the south" kept the hotel's north."""
    tracker.change_penalty = 100.0
    state = tracker.update(empty_state(), "I need a place to stay in the north please .", "Hotel-Inform")
    assert tracker.update(state, "in the centre please .", "Hotel-Inform")["slots"]["hotel-area"] == "north"
    assert tracker.update(state, "actually , make it the centre .", "Hotel-Inform")["slots"]["hotel-area"] == "centre"


def test_a_value_the_user_rules_out_fills_no_slot_unless_it_is_asked_for(tracker: DialogueStateTracker) -> None:
    state = tracker.update(empty_state(), "I need a place to stay , not in the north .", "Hotel-Inform")
    assert "hotel-area" not in state["slots"]
    assert tracker.update(empty_state(), "I need a place to stay in the north .", "Hotel-Inform")["slots"]
    assert NEGATED.search("a hotel , not a ") and NEGATED.search("4 people not ")
    assert not NEGATED.search("is there not a ") and not NEGATED.search("if there is not a ")


def test_a_word_value_said_twice_fills_one_slot_and_a_number_said_twice_may_fill_two(
    tracker: DialogueStateTracker,
) -> None:
    """ "cheap, really cheap" filled the hotel's price and the restaurant's; "2 people for 2 nights" needs both."""
    first, second = [c for c in tracker.classes if c != NONE][:2]
    scores = np.full((2, len(tracker.classes)), -5.0)
    scores[0, tracker.classes.index(first)] = scores[1, tracker.classes.index(second)] = -0.1
    for value, filled in (("cheap", [first, NONE]), ("2", [first, second])):
        said_twice = [Candidate(value, 0, 1, [], [first, second]), Candidate(value, 5, 6, [], [first, second])]
        assert tracker.pick(said_twice, scores) == filled


@pytest.mark.parametrize(
    ("said", "count"),
    [
        ("A table for one at 18:45 on friday .", "A table for 1 at 18:45 on friday ."),
        ("Book it for one person for 3 nights .", "Book it for 1 person for 3 nights ."),
        ("I need a place to stay for one night .", "I need a place to stay for 1 night ."),
        ("just one ticket please .", "just 1 ticket please ."),
        ("one room for 2 nights .", "1 room for 2 nights ."),
        ("make that one person .", "make that 1 person ."),
    ],
)
def test_one_as_a_count_is_read_as_1(tracker: DialogueStateTracker, said: str, count: str) -> None:
    """ "one" is no alias (as "two" is): it is more often a pronoun; where its neighbours make it a count it is 1."""
    at = said.lower().index("one")
    assert [(c.value, c.start, c.end) for c in tracker.candidates(said) if c.value == "1"] == [("1", at, at + 3)]
    for intent in ("Restaurant-Inform", "Hotel-Inform"):
        assert (
            tracker.update(empty_state(), said, intent)["slots"]
            == tracker.update(empty_state(), count, intent)["slots"]
        )


@pytest.mark.parametrize(
    "said",
    [
        "which one is in the north ?",
        "that one sounds good .",
        "I will take the one in the north .",
        "one of them please .",
        "any one is fine .",
        "I am looking for one in the north .",
        "can I book for one thirty ?",
        "make it for one o'clock .",
        "book it for one pm .",
        "tickets for one fifteen please .",
        "book it for one .",
    ],
)
def test_one_standing_for_a_thing_fills_nothing(tracker: DialogueStateTracker, said: str) -> None:
    assert "1" not in [c.value for c in tracker.candidates(said)]


def test_a_booking_size_correction_naming_no_domain_keeps_the_domain_and_updates_the_people(
    tracker: DialogueStateTracker,
) -> None:
    """ "make that 4 people" read alone is a train's (0.99 for the trained model): it moved a restaurant booking to
    a train and left the restaurant's people at 2."""
    _with_context(tracker)
    state = tracker.update(empty_state(), "I want italian food in the centre .", "Restaurant-Inform")
    state = tracker.update(state, "A table for 2 at 18:45 on friday .", "Restaurant-Inform")
    after = tracker.update(state, "make that 4 people", [("Train-Inform", 0.99), ("Hotel-Inform", 0.01)])
    assert after["domain"] == "restaurant"
    assert after["slots"] == {**state["slots"], "restaurant-people": "4"}
    for text, before in (
        ("actually , 4 train tickets", state),  # names a domain
        ("4 people please", state),  # corrects nothing
        ("make that 4 people", empty_state()),  # no booking under way
    ):
        assert not tracker.amends_size(before, text, tracker.candidates(text))
    odds = tracker.context_odds(state, "make that 4 people")
    assert odds["restaurant"] > 0 and {c for c, value in odds.items() if value} == {"restaurant"}
    in_context = intents_in_context([("Train-Inform", 0.99), ("Restaurant-Inform", 0.01)], odds)
    assert in_context[0] == ("Restaurant-Inform", 1.0), "the decision's intent is the booking's, as its state"
    assert tracker.context_odds(state, "4 people please") == tracker.context_odds(state)


def test_a_name_spelt_otherwise_is_tracked_as_the_database_name(tracker: DialogueStateTracker) -> None:
    """The database writes "acorn guest house" and "arbury lodge guesthouse"; users write either for both."""
    state = tracker.update(empty_state(), "I am looking for a hotel called Acorn Guesthouse .", "Hotel-Inform")
    assert state["slots"] == {"hotel-name": "acorn guest house"}
    lexicon = {"hotel-name": ["arbury lodge guesthouse", "alpha-milton guest house"], "hotel-type": ["guest house"]}
    spelt = DialogueStateTracker(lexicon, aliases={"guesthouse": "guest house"})
    text = "arbury lodge guest house , alpha milton guesthouse or any guesthouse"
    assert [c.value for c in spelt.candidates(text)] == [
        "arbury lodge guesthouse",
        "alpha-milton guest house",
        "guest house",
    ]
    assert spellings("king's college") == {"kings college"}
    assert "a b&b" not in DialogueStateTracker({"hotel-name": ["a b and b", "a bed and breakfast"]}).canonical
