"""Multi-turn MultiWOZ-style dialogues generated from user goals, so the true state after every turn is known.

A goal picks one or two domains, a real database entity (or real stations, times, days) per domain and the slots the
user will mention. Each turn is a real user utterance template of the right intent whose placeholders are a subset
of the slots still to be said, filled with the goal's values.
"""

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from streamsense.datasets.multiwoz import (
    PLACEHOLDER,
    MultiWOZ,
    fill,
    placeholder_slots,
    value_aliases,
    value_lexicon,
)
from streamsense.models.chat.dst import CLOCK
from streamsense.models.chat.times import clock_times

DOMAINS = ("restaurant", "hotel", "attraction", "train", "taxi")
DOMAIN_NOUNS = {"hotel"}


def clean_templates(
    templates: dict[str, list[str]],
    lexicon: dict[str, list[str]],
    reads_more: Callable[[str], bool] | None = None,
) -> dict[str, list[str]]:
    """Templates whose every database/ontology value is a placeholder.

    MultiWOZ left some values in the text (``I need it starting on Wednesday for 5 people``); a turn built on such
    a template says more than its labels, so the true state after it is unknown. Values count in every form the
    tracker reads: the other ways people write them (``value_aliases``: "two", "guesthouse"), clock times
    ("at 7pm") and, given ``reads_more`` (whether the tracker reads a value in a lowered text beyond these: one
    written with a slip, "antolia", or another booking's, "the same area"), those too. The domain noun ``hotel`` is
    kept: it is in nearly every hotel utterance.
    """
    written = {v for vs in lexicon.values() for v in vs} | set(value_aliases())
    values = sorted(written - DOMAIN_NOUNS, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w:])(" + "|".join(re.escape(v) for v in values) + r")(?![\w:])")

    def clean(template: str) -> bool:
        text = PLACEHOLDER.sub(" ", template.lower())
        if pattern.search(text) or CLOCK.search(clock_times(text)):
            return False
        return reads_more is None or not reads_more(clock_times(text))

    return {intent: [t for t in group if clean(t)] for intent, group in templates.items()}


@dataclass
class Turn:
    text: str
    intent: str
    state: dict[str, str] = field(default_factory=dict)


@dataclass
class Dialogue:
    goal: dict[str, str]
    turns: list[Turn]


def _entity_slots(data: MultiWOZ, domain: str, rng: random.Random) -> dict[str, str]:
    """Slots describing one real entity of the domain, so the constraints are jointly satisfiable."""
    row = rng.choice(data.databases[domain])
    slots = {f"{domain}-area": row["area"], f"{domain}-name": row["name"].lower()}
    if domain == "restaurant":
        slots |= {"restaurant-food": row["food"], "restaurant-price": row["pricerange"]}
    if domain == "hotel":
        kind = "guest house" if row["type"] == "guesthouse" else row["type"]
        slots |= {"hotel-type": kind, "hotel-price": row["pricerange"], "hotel-stars": row["stars"]}
    return slots


def sample_goal(data: MultiWOZ, lexicon: dict[str, list[str]], rng: random.Random) -> dict[str, str]:
    """One or two domains; every slot a value from the database or the ontology."""
    goal: dict[str, str] = {}
    for domain in rng.sample(DOMAINS, rng.choice((1, 2))):
        if domain in ("restaurant", "hotel", "attraction"):
            goal |= _entity_slots(data, domain, rng)
        if domain == "attraction":
            goal["attraction-type"] = rng.choice(lexicon["attraction-type"])
        prefix = f"{domain}-"
        for slot in lexicon:
            if slot.startswith(prefix) and slot not in goal:
                goal[slot] = rng.choice(lexicon[slot])
        if domain in ("train", "taxi") and goal[f"{domain}-depart"] == goal[f"{domain}-dest"]:
            goal.pop(f"{domain}-dest")
    return goal


def generate(
    data: MultiWOZ, templates: dict[str, list[str]], n: int, seed: int = 0, max_turns_per_domain: int = 4
) -> list[Dialogue]:
    """Up to ``n`` dialogues using only ``templates`` (pass one split's templates to keep splits apart)."""
    rng = random.Random(seed)
    lexicon = value_lexicon(data)
    by_slots = {
        intent: [(t, set(placeholder_slots(t))) for t in group if placeholder_slots(t)]
        for intent, group in templates.items()
    }
    dialogues = []
    for _ in range(50 * n):  # bounded: templates without any fillable Inform turn yield no dialogue
        if len(dialogues) == n:
            break
        goal = sample_goal(data, lexicon, rng)
        state: dict[str, str] = {}
        turns = []
        if rng.random() < 0.3 and templates.get("general-greet"):
            turns.append(Turn(rng.choice(templates["general-greet"]), "general-greet", dict(state)))
        for domain in dict.fromkeys(slot.split("-")[0] for slot in goal):
            intent = f"{domain.capitalize()}-Inform"
            for _ in range(max_turns_per_domain):
                todo = {s for s in goal if s.startswith(f"{domain}-") and s not in state}
                options = [t for t, slots in by_slots.get(intent, []) if slots <= todo]
                if not options:
                    break
                text, filled = fill(rng.choice(options), lexicon, rng, goal)
                state |= filled
                turns.append(Turn(text, intent, dict(state)))
            request = f"{domain.capitalize()}-Request"
            plain = [t for t in templates.get(request, []) if not placeholder_slots(t)]
            if plain and rng.random() < 0.5:
                turns.append(Turn(" ".join(rng.choice(plain).split()), request, dict(state)))
        closing = rng.choice(("general-thank", "general-bye"))
        if templates.get(closing):
            turns.append(Turn(" ".join(rng.choice(templates[closing]).split()), closing, dict(state)))
        if any(t.intent.endswith("-Inform") for t in turns):
            dialogues.append(Dialogue(goal=goal, turns=turns))
    return dialogues
