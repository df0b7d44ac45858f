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
