"""Clock times as people write them become the HH:MM the tracker recognises; other numbers are left alone."""

import pytest

from streamsense.models.chat.times import clock_times


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a table at 7pm on friday", "a table at 19:00 on friday"),
        ("leave after 5:30pm", "leave after 17:30"),
        ("arrive by 10 am please", "arrive by 10:00 please"),
        ("7.30 p.m. please", "19:30 please"),
        ("12pm or 12am", "12:00 or 00:00"),
        ("the 9:15 train", "the 09:15 train"),
        ("at 18h00", "at 18:00"),
        ("by noon or midnight", "by 12:00 or 00:00"),
        ("at 7 PM", "at 19:00"),
    ],
)
def test_twelve_hour_one_digit_and_named_times_become_hh_mm(text: str, expected: str) -> None:
    assert clock_times(text) == expected


@pytest.mark.parametrize(
    "text", ["I am here", "for 4 people", "2 amazing rooms", "3.5 stars", "it costs 7.50", "at 13pm", "at 19:30"]
)
def test_other_numbers_and_words_are_left_alone(text: str) -> None:
    assert clock_times(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("at 7.30 please", "at 07:30 please"),
        ("I want to leave at 10.15", "I want to leave at 10:15"),
        ("I want to leave after 6", "I want to leave after 06:00"),
        ("I need to arrive before 8 .", "I need to arrive before 08:00 ."),
        ("it should arrive by 20.45", "it should arrive by 20:45"),
        ("leave at 9 o'clock", "leave at 09:00"),
    ],
)
def test_an_hour_after_a_word_that_introduces_a_time_is_a_time_not_a_count(text: str, expected: str) -> None:
    """ "at 7.30" turned a table for two into one for seven, and "after 6" a train for six people."""
    assert clock_times(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "at 9",
        "it 's at 14 king 's street",
        "around 6 different people",
        "tickets at 14.50 each",
        "around 12.50 pounds",
        "by 2 people",
        "for 3 nights from 4",
        "by 06;15",
    ],
)
def test_a_number_after_such_a_word_that_may_be_something_else_is_left_alone(text: str) -> None:
    assert clock_times(text) == text
