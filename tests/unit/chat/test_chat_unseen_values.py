"""``eval intent``'s robustness sentences: names, places, foods and times the database does not hold."""

import random

import pytest

from streamsense.datasets.multiwoz import Example
from streamsense.models.chat.evaluation import unseen_values, with_unseen_values

VALUES = {"name": ["the blue door"], "place": ["oxford"], "food": ["vegan"], "time": ["5pm"]}


def test_every_name_place_food_and_time_span_is_replaced_and_other_values_kept() -> None:
    text = "a table at golden wok for 4 at 18:45 , then a taxi to kings college , italian food"
    spans = [
        (text.index("golden wok"), text.index("golden wok") + 10, "restaurant-name"),
        (text.index(" 4 ") + 1, text.index(" 4 ") + 2, "restaurant-people"),
        (text.index("18:45"), text.index("18:45") + 5, "restaurant-time"),
        (text.index("kings college"), text.index("kings college") + 13, "taxi-dest"),
        (text.index("italian"), text.index("italian") + 7, "restaurant-food"),
    ]
    example = Example(text=text, intent="Restaurant-Inform", template="", spans=spans)
    assert with_unseen_values(example, VALUES, random.Random(0)) == (
        "a table at the blue door for 4 at 5pm , then a taxi to oxford , vegan food"
    )


def test_the_shipped_values_are_not_in_the_database_and_a_clash_is_refused() -> None:
    values = unseen_values({"restaurant-name": ["golden wok"]})
    assert set(values) == {"name", "place", "food", "time"}
    with pytest.raises(ValueError, match="oxford"):
        unseen_values({"train-dest": ["Oxford"]})
