"""``eval dst``'s user forms: a stated value rewritten as people also write it, the true state unchanged."""

import re

import pytest

from streamsense.datasets.multiwoz import value_aliases
from streamsense.models.chat.evaluation import fillers, in_user_form, twelve_hour
from streamsense.models.chat.times import clock_times

FORMS = {"centre": "center", "guest house": "guesthouse", "2": "two"}


@pytest.mark.parametrize("clock", ["00:15", "09:30", "12:00", "12:45", "19:00", "23:59"])
def test_twelve_hour_forms_read_back_as_the_same_clock_time(clock: str) -> None:
    assert clock_times(twelve_hour(clock)) == clock


def test_only_the_first_whole_occurrence_of_the_value_is_rewritten() -> None:
    text = "a table for 2 at 19:00 in the Centre , room 12 , 2 nights"
    assert in_user_form(text, "2", FORMS) == "a table for two at 19:00 in the Centre , room 12 , 2 nights"
    assert in_user_form(text, "centre", FORMS) == "a table for 2 at 19:00 in the center , room 12 , 2 nights"
    assert in_user_form(text, "19:00", FORMS) == "a table for 2 at 7pm in the Centre , room 12 , 2 nights"
    assert in_user_form(text, "north", FORMS) == text


def test_the_fillers_state_no_value_the_tracker_could_read() -> None:
    said = fillers()
    assert len(said) >= 10
    aliases = {a.lower() for a in value_aliases()}
    for filler in said:
        assert clock_times(filler) == filler
        assert not set(re.findall(r"[a-z]+", filler.lower())) & aliases
