"""Generated dialogues: the true state after every turn is the accumulation of the values said so far."""

from streamsense.datasets.dialogues import clean_templates, generate
from streamsense.datasets.multiwoz import MultiWOZ, value_lexicon


def test_state_only_grows_and_holds_goal_values(tiny_multiwoz: MultiWOZ) -> None:
    dialogues = generate(tiny_multiwoz, tiny_multiwoz.templates, 20, seed=1)
    assert len(dialogues) == 20
    for dialogue in dialogues:
        previous: dict[str, str] = {}
        for turn in dialogue.turns:
            assert previous.items() <= turn.state.items()
            assert all(dialogue.goal[slot] == value for slot, value in turn.state.items())
            assert "#" not in turn.text
            previous = turn.state


def test_generation_is_deterministic_for_a_seed(tiny_multiwoz: MultiWOZ) -> None:
    first = generate(tiny_multiwoz, tiny_multiwoz.templates, 5, seed=4)
    second = generate(tiny_multiwoz, tiny_multiwoz.templates, 5, seed=4)
    assert [t.text for d in first for t in d.turns] == [t.text for d in second for t in d.turns]


def test_clean_templates_drop_values_left_in_the_text(tiny_multiwoz: MultiWOZ) -> None:
    templates = {
        "Hotel-Inform": ["a hotel in the #HOTEL-INFORM-AREA# .", "a hotel in the north for #HOTEL-INFORM-STAY# nights"]
    }
    clean = clean_templates(templates, value_lexicon(tiny_multiwoz))
    assert clean == {"Hotel-Inform": ["a hotel in the #HOTEL-INFORM-AREA# ."]}


def test_clean_templates_also_drop_aliases_and_clock_times_left_in_the_text(tiny_multiwoz: MultiWOZ) -> None:
    kept = ["in the #HOTEL-INFORM-AREA# please", "a hotel for #HOTEL-INFORM-PEOPLE# please"]
    dropped = ["a guesthouse in the #HOTEL-INFORM-AREA#", "for two people", "we arrive by 7pm", "leave at 9:15"]
    clean = clean_templates({"Hotel-Inform": kept + dropped}, value_lexicon(tiny_multiwoz))
    assert clean == {"Hotel-Inform": kept}


def test_clean_templates_also_drop_what_the_tracker_reads_beyond_values(tiny_multiwoz: MultiWOZ) -> None:
    """A value written with a slip ("antolia") or taken from another booking ("the same area") says more than the
    template's labels too."""
    kept = ["in the #HOTEL-INFORM-AREA# please"]
    dropped = ["a table at antolia", "a hotel in the same area"]
    clean = clean_templates(
        {"Hotel-Inform": kept + dropped},
        value_lexicon(tiny_multiwoz),
        lambda lowered: "antolia" in lowered or "same" in lowered,
    )
    assert clean == {"Hotel-Inform": kept}
