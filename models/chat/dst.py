"""Dialogue state tracker: ontology values found in the text, each assigned to a slot by a linear model, and the
conversation's domain tracked by a beam over domain sequences.

Recognition is a lexicon match against the database/ontology values (longest first), their aliases ("center"), and
clock times in any common form ("7pm" reads as 19:00, also a time the ontology lacks); where none matched, a name
written with a slip ("cambrige", ``NearValues``; an area, type or price is read only as written: "nrth" is no
north); a party or stay over eight beside a count word ("a table for 10", ``large_counts``). A slot the user leaves
open ("any area is fine", not "does it have any stars?") is filled with the ontology's ``DONTCARE``, and "the same
day" for a second booking copies the first's day (``DialogueStateTracker.implied``). Which slot a value fills
(``hotel-stars`` or ``hotel-people`` for "4", ``train-depart`` or ``train-dest`` for a station) is decided by a
logistic regression over the words around it, the value's kinds and the domain the turn is about.

Which domain a turn is about is a hidden variable: the intent model says what the text alone suggests (its posterior
divided by its training prior, a likelihood up to a constant), and domain-to-domain transitions learnt from training
dialogues say what usually follows what. A context-free guess on an ambiguous turn ("in the centre, please") is often
wrong; keeping the ``beam`` best domain sequences lets the next turns ("for 3 nights") revise it, as an HMM decoder
would. A value that would overwrite a filled slot with a different value costs ``change_penalty`` (users seldom
restate a constraint with a new value), both in which slot it goes to and in the hypothesis's score: on validation
dialogues that lifted joint goal accuracy from 0.846 to 0.893. State is a JSON-able dict (the beam under
``hypotheses``), so the caller can keep it in a table keyed by conversation.
"""

import heapq
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from streamsense.models.chat.times import clock_times

VERSION = "dst-6"
NONE = "none"
GENERAL = "general"
START = "start"
FLOOR = 1e-3
WORD = re.compile(r"\d\d:\d\d|[^\W_]+")
CORRECTION = re.compile(
    r"\b(?:actually|instead|rather|sorry|change|changed|switch|correction|make (?:it|that)|not)\b", re.I
)
"""Words with which a user changes a constraint: in such a turn a new value overwrites a filled slot at no cost
(``change_penalty`` is for the turns that restate nothing). Without it, "actually, make it the south" after "a hotel
in the north" filled the attraction's area and kept the hotel's north."""
REOPENED = re.compile(r"\b(?:actually|instead|rather|change|changed|switch|correction|after all)\b", re.I)
"""Words with which a user drops a constraint given before ("actually, the area doesn't matter"): a slot left open
(``DONTCARE``) replaces a filled one only in such a turn. ``CORRECTION``'s "not" is in most don't-care phrases."""
NEGATED = re.compile(
    r"(?<!there )(?<!there is )(?<!there are )(?<!there's )"
    r"\bnot\s+(?:(?:in|on|at|for|from|to)\s+)?(?:(?:the|a|an)\s+)?$",
    re.I,
)
"""What a value that the user rules out follows ("not in the centre", "4 people not 3"): it fills no slot. "Is there
not a guesthouse ?" and "if there is not a 4 star hotel" ask for it."""
DOMAIN_WORD = re.compile(
    r"\b(?:restaurants?|tables?|dinner|lunch|hotels?|rooms?|guest ?houses?|nights?|stay|trains?|tickets?|taxis?"
    r"|cabs?|attractions?|hospital|police)\b",
    re.I,
)
"""Words that say which domain a turn is about: a correction holding one ("actually, 4 train tickets") may move
the conversation; one without ("make that 4 people") amends the booking under way."""
MAX_VALUES = 16
"""Values a turn's slots are filled from, its first ones: no MultiWOZ template names more than 6, and each costs a
slot-model pass per domain of the beam, so a 4,000-character message repeating a value could take 60 ms."""
_NEAR = 256
"""Characters either side of a value that its six words are looked for in first: a long message would otherwise
cost each of its values a pass over the whole text (quadratic; a 4,000-character one took 193 ms)."""


def _words_before(lowered: str, start: int, n: int = 6) -> list[str]:
    """The ``n`` words before ``start``; from the nearby characters when they hold enough words that the one cut at
    the window's edge (a clock time can split in two) is not among the last ``n``."""
    near = WORD.findall(lowered[max(0, start - _NEAR) : start])
    return (near if len(near) >= n + 2 or start <= _NEAR else WORD.findall(lowered[:start]))[-n:]


def _words_after(lowered: str, end: int, n: int = 6) -> list[str]:
    """The ``n`` words after ``end``, likewise from the nearby characters when they are enough."""
    near = WORD.findall(lowered[end : end + _NEAR])
    return (near if len(near) >= n + 2 or end + _NEAR >= len(lowered) else WORD.findall(lowered[end:]))[:n]


_COUNT_NOUN = re.compile(
    r"\s+(?:people|persons?|guests?|adults?|travell?ers?|passengers?|nights?|days?|tickets?|seats?|rooms?|stars?)\b"
)
_CLAUSE_END = re.compile(r"\s*(?:[.,!?;]|please\b|$)")
_TIME_AFTER = re.compile(r"\s*(?:o'?clock|[ap]\.?m\b|thirty|fifteen|forty|twenty|ten|five|oh)\b")
"""What makes "one" an hour ("for one thirty", "one o'clock", "one pm"), not a count."""
_NOT_COUNTING = frozenset({"which", "any", "each", "every", "no", "another", "other"})
"""Words after which "one" is no count even before a count noun ("which one night?")."""
_PRONOUN_BEFORE = _NOT_COUNTING | {"that", "the", "this"}
"""Words after which "one" alone stands for a thing ("that one", "the one in the north"), not a count."""
_BOOKED_FOR = frozenset(
    {"table", "room", "rooms", "booking", "reservation", "book", "reserve", "ticket", "tickets", "seat", "seats"}
)
"""Words before "for one" that make it a count ("a table for one"); after "looking for" the "one" is a thing, and
after "book it for" it may be a night or a person."""
_ONE = re.compile(r"(?<![\w'-])one(?![\w'-])")


def counted_ones(lowered: str) -> list[tuple[int, int]]:
    """Spans of "one" used as a count: before a count noun ("one night", "for one person", "just one ticket"),
    after a booking's "for" ("a table for one") or alone after "just"/"only" ("just one, please"). Not "which one",
    "the one", "one of them", "any one", "looking for one", nor an hour ("for one thirty", "one o'clock"): "one" is
    more often a pronoun than a number, so it is no lexicon alias (as "two" is) and is read only where its
    neighbours make it a count."""
    spans = []
    for match in _ONE.finditer(lowered):
        before = _words_before(lowered, match.start(), 2)
        after = lowered[match.end() :]
        previous = before[-1] if before else ""
        if re.match(r"\s+of\b", after) or _TIME_AFTER.match(after):
            continue
        if _COUNT_NOUN.match(after):  # "make that one person" counts; "which one night?" does not
            counted = previous not in _NOT_COUNTING
        else:
            counted = previous not in _PRONOUN_BEFORE and (
                (previous == "for" and len(before) == 2 and before[0] in _BOOKED_FOR)
                or (previous in ("just", "only") and _CLAUSE_END.match(after) is not None)
            )
        if counted:
            spans.append((match.start(), match.end()))
    return spans


SPELLINGS = (("guest house", "guesthouse", "guest-house"), ("bed and breakfast", "b and b", "b&b", "b & b"))
"""Words that names write in several ways: the database has "arbury lodge guesthouse" and "acorn guest house"."""


def spellings(value: str) -> set[str]:
    """Other ways of writing ``value``: each ``SPELLINGS`` form for another of its group, a hyphen as a space or
    nothing ("alpha milton guest house"), an apostrophe left out ("kings college")."""
    forms = {value}
    for group in SPELLINGS:
        for written in group:
            if re.search(rf"(?<![\w&]){re.escape(written)}(?![\w&])", value):
                forms |= {re.sub(rf"(?<![\w&]){re.escape(written)}(?![\w&])", other, value) for other in group}
    forms |= {f.replace("-", joint) for f in forms if "-" in f for joint in (" ", "")}
    forms |= {f.replace("'", "") for f in forms if "'" in f}
    return forms - {value}


DONTCARE = "do n't care"
"""The ontology's value for "any will do" (``ontology.json`` of the convlab source spells it so)."""
DONTCARE_SLOTS = frozenset(
    {
        "attraction-area",
        "attraction-type",
        "hotel-area",
        "hotel-price",
        "hotel-stars",
        "restaurant-food",
        "restaurant-price",
        "restaurant-time",
        "train-arrive",
        "train-day",
        "train-leave",
    }
)
"""Tracked slots whose ontology values include it (the names and the hospital's department do too, but no user
says "any name"); the ontology has none for ``restaurant-area``, ``hotel-type`` or the booking slots."""
_NEG = r"(?:do(?:es)?\s*n'?t|do(?:es)?\s+not|dont|doesnt)"
_ASPECTS = {
    "food": r"(?:type|kind|sort)s?\s+of\s+(?:food|cuisine)|food|cuisines?",
    "area": r"areas?|parts?\s+of\s+(?:town|the\s+city|cambridge)|side\s+of\s+town|locations?|neighbou?rhoods?",
    "price": r"price\s*ranges?|prices?|cost",
    "stars": r"star\s+ratings?|number\s+of\s+stars|stars?|ratings?",
    "arrive": r"arrival\s+times?",
    "leave": r"departure\s+times?",
    "type": r"(?:type|kind|sort)s?(?:\s+of\s+(?:attraction|place)s?)?",
    "day": r"days?",
    "time": r"times?",
}
_ASPECT = "(?:" + "|".join(f"(?P<{name}>{words})" for name, words in _ASPECTS.items()) + r")\b"
DONTCARE_BEFORE = re.compile(
    rf"(?:\bany(?:\s+old)?\s+|\b{_NEG}\s+(?:really\s+|much\s+)?(?:care\s+(?:much\s+)?(?:about\s+|on\s+)?"
    r"|(?:mind|matter)\s+(?:much\s+)?(?:about\s+|on\s+|for\s+)?)(?:the\s+|what\s+|which\s+|its\s+)?"
    r"|\bno\s+(?:particular\s+|real\s+)?preferences?\s+(?:on|for|about|regarding|as\s+to|with)\s+(?:the\s+)?)"
    rf"{_ASPECT}",
    re.I,
)
DONTCARE_AFTER = re.compile(
    rf"(?<![\w-]){_ASPECT}\s+(?:really\s+)?(?:{_NEG}\s+(?:really\s+)?matter|(?:is|are|'s)\s+(?:not\s+important"
    r"|unimportant|irrelevant|not\s+an\s+issue|up\s+to\s+you))"
    r"|\b(?P<anywhere>anywhere)\s+(?:in\s+(?:town|the\s+city|cambridge)|is\s+fine|will\s+do|works)\b"
    r"|\b(?P<anytime>anytime)\b",
    re.I,
)
"""An aspect the user leaves open: "any area", "any type of food", "I don't mind the price range", "the star rating
doesn't matter", "no preference on the area", "anywhere in town"; ``update`` fills the slot it names in the
domain of the turn with ``DONTCARE``. A bare "I don't care" names no slot: which one it answers is the system's
question, which the tracker does not see. A time left open up to a bound ("anytime after 17:00") is that bound's.
"I don't care for the food" dislikes it, and "any" in a question asks (``_states_preference``)."""
_DONTCARE_KIND = {"anywhere": "area", "anytime": "time"}
_BOUNDED = re.compile(r"\s+(?:after|before|by|from|between|around|until|till|as\s+long)\b", re.I)
_TIMES = frozenset({"time", "leave", "arrive"})
_SAME = re.compile(
    r"\bsame\s+(?:(?P<day>day|date)|(?P<people>(?:number|amount)\s+of\s+(?:people|guests|persons)|group"
    r"(?:\s+of\s+people)?|party|people|number)|(?P<area>area|part\s+of\s+town)|(?P<price>price\s*range))\b",
    re.I,
)
"""A value the user refers back to in another domain's booking ("the same day", "the same group of people", "in
the same area as the restaurant")."""


_PREFERS = re.compile(
    r"\s+(?:(?:is|are|'s|would\s+be|will\s+be|should\s+be)\s+)?(?:(?:just|totally|perfectly|really|also)\s+)?"
    r"(?:fine|ok|okay|alright|all\s+right|good|great|acceptable)\b|\s*'s\s+fine\b|\s+(?:will|would)\s+(?:do|work)\b"
    r"|\s+works\b",
    re.I,
)
"""What after "any area" says the user takes any ("is fine", "will do", "works")."""
_OPEN_PREPOSITION = re.compile(r"\b(?:in|at|on|for)\s+$", re.I)
"""A preposition before "any area" that makes it a constraint of what is asked for ("a hotel in any area", "a table
at any time"), even in a question."""
_CLAUSE_MARK = re.compile(r"[.!?;,\n]")
_ASKS = re.compile(
    r"\W*(?:(?:and|so|also|but|then|ok|okay|well|oh|hi|hello|yes|great|please)\s+)*(?:do|does|did|are|is|was|were"
    r"|can|could|would|will|shall|should|may|have|has|what|what's|whats|which|where|when|how|who)\b",
    re.I,
)
"""How a clause that asks opens: an auxiliary or a question word ("does it have any stars", "can you tell me any
times")."""
_ASKS_ABOUT = re.compile(r"\b(?:tell\s+me|know|wonder(?:ing)?)\b", re.I)
"""Words that make a clause ask whatever it opens with ("I'd like to know any areas that are nice")."""


def _states_preference(text: str, start: int, end: int) -> bool:
    """Whether an "any" phrase at ``start:end`` ("any area", "anywhere", "anytime") leaves the aspect open rather than
    asks about it: "any area is fine", "in any area" or "any price range" in a clause that does not ask. "Does it
    have any stars?", "are there any times on saturday?" and "do you know any areas that are nice?" leave nothing
    open; nor does "any cuisines you recommend?" (a clause ending in "?"). The clause is looked for within ``_NEAR``
    characters, so a long message repeating "any area" costs no pass over the whole text per phrase."""
    if _PREFERS.match(text, end) or _OPEN_PREPOSITION.search(text, max(0, start - 8), start):
        return True
    low = max(0, start - _NEAR)
    begin = max(text.rfind(mark, low, start) for mark in ".!?;,\n") + 1
    opening = begin > 0 or low == 0  # the clause's first word is within reach
    begin = max(begin, low)
    stop = _CLAUSE_MARK.search(text, end, end + _NEAR)
    asks = (stop is not None and stop.group() == "?") or (opening and _ASKS.match(text, begin, start) is not None)
    return not asks and _ASKS_ABOUT.search(text, begin, start) is None


_HINTS = (
    (DONTCARE_BEFORE, re.compile(r"any|n'?t\b|not|preference")),
    (DONTCARE_AFTER, re.compile(r"matter|important|irrelevant|issue|up to you|anywhere|anytime")),
)
"""A word each phrase needs, found by a plain scan: the phrases' many alternatives are slow to try at every place of
a long message."""


def _implied_kinds(text: str) -> tuple[list[str], list[str]]:
    """Slot kinds the turn leaves open (``DONTCARE_BEFORE``, ``DONTCARE_AFTER``) and kinds it copies from another
    domain (``_SAME``)."""
    lowered = text.lower()
    phrases = [phrase for phrase, hint in _HINTS if hint.search(lowered)]
    open_kinds = []
    for phrase in phrases:
        for match in phrase.finditer(text):
            name = next(name for name, said in match.groupdict().items() if said)
            kind = _DONTCARE_KIND.get(name, name)
            if kind in _TIMES and _BOUNDED.match(text, match.end()):
                continue
            said = match.group().lower()
            if said.startswith("any") and not _states_preference(text, match.start(), match.end(name)):
                continue
            open_kinds.append(kind)
    same = (
        [name for match in _SAME.finditer(text) for name, said in match.groupdict().items() if said]
        if "same" in lowered
        else []
    )
    return open_kinds, same


def referred_kinds(text: str) -> list[str]:
    """The slot kinds ``text`` takes from another booking ("the same day", "the same area")."""
    return _implied_kinds(text)[1]


def _open_slot(domain: str, kind: str) -> str | None:
    """The slot of ``domain`` that a kind the user leaves open names ("any time" is a train's departure)."""
    name = {"time": "leave"}.get(kind, kind) if domain == "train" else kind
    slot = f"{domain}-{name}"
    return slot if slot in DONTCARE_SLOTS else None


MAX_COUNT = 99
"""Largest party or stay a number over 8 is read as (the lexicon, like the ontology, lists 1 to 8)."""
_COUNT_WORDS = {
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
}
_LARGE = re.compile(r"(?<![\w:.,£$€#/-])([1-9]\d|9|" + "|".join(_COUNT_WORDS) + r")(?![\w:%]|[.,]\d)")
_COUNTED = re.compile(
    r"\s+(?:people|persons?|guests?|adults?|diners?|travell?ers?|passengers?|nights?|days?|tickets?|seats?|of\s+us)\b"
)
_UNIT = re.compile(
    r"\s+(?:minutes?|mins?|hours?|hrs?|pounds?|quid|gbp|euros?|dollars?|percent|miles?|km|stars?|o'?clock|years?"
    r"|weeks?|months?)\b"
)
_COUNT_CUE = frozenset({"for", "of"})
"""The word before a bare number that makes it a count: "a table for 10", "a party of 12"."""
_NO_COUNT = re.compile(
    r"\s*\+|\s+(?:(?:and|or)\s+(?:over|above|older|up)|plus)\b|\s+[0-5]\d(?:\s*[ap]\.?m\b\.?)?(?![\w:])",
    re.I,
)
"""What after "for 18" makes it an age ("for 18 and over", "18+") or an hour ("for 10 30", "for 9 45 pm")."""


def large_counts(lowered: str) -> list[tuple[int, int, str]]:
    """(start, end, number) of the counts from 9 to ``MAX_COUNT`` in ``lowered``, in digits or words to twenty:
    before a count noun ("12 nights", "10 people", "ten of us"), or after "for"/"of" and before no unit, age or
    minutes ("a table for 10", "a party of 12"; not "for 20 minutes", "for 18 and over", "for 10 30"). A bare number
    elsewhere is as likely a street or bus number."""
    found = []
    for match in _LARGE.finditer(lowered):
        said = match.group(1)
        number = _COUNT_WORDS.get(said) or int(said)
        if number > MAX_COUNT:
            continue
        after = lowered[match.end() :]
        before = _words_before(lowered, match.start(), 1)
        cued = before and before[0] in _COUNT_CUE and not _UNIT.match(after) and not _NO_COUNT.match(after)
        if _COUNTED.match(after) or cued:
            found.append((match.start(), match.end(), str(number)))
    return found


def edit_distance(a: str, b: str, bound: int) -> int:
    """Damerau (optimal string alignment) distance: a swap of neighbours is one edit; ``bound + 1`` once above
    ``bound``. Only the diagonal band ``bound`` wide is filled: a path leaving it costs more than ``bound``."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    over = bound + 1
    width = len(b) + 1
    previous2: list[int] = []
    previous = [j if j <= bound else over for j in range(width)]
    for i in range(1, len(a) + 1):
        row = [over] * width
        if i <= bound:
            row[0] = i
        low, high = max(1, i - bound), min(len(b), i + bound)
        least = over
        for j in range(low, high + 1):
            cost = previous[j - 1] if a[i - 1] == b[j - 1] else previous[j - 1] + 1
            if previous[j] + 1 < cost:
                cost = previous[j] + 1
            if row[j - 1] + 1 < cost:
                cost = row[j - 1] + 1
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1] and previous2[j - 2] + 1 < cost:
                cost = previous2[j - 2] + 1
            row[j] = cost if cost < over else over
            if cost < least:
                least = cost
        if least > bound and (i > bound or row[0] > bound):
            return over
        previous2, previous = previous, row
    return previous[-1]


def allowed_edits(form: str) -> int:
    """Edits a misspelling of ``form`` may hold: one from five letters, two from ten (long names), none below."""
    letters = sum(ch.isalpha() for ch in form)
    return 2 if letters >= 10 else 1 if letters >= 5 else 0


_TOKEN = re.compile(r"[^\W_]+")
_INFLECTIONS = ("s", "es", "ed", "d", "er", "ers", "ing", "ings", "al", "ly")


class NearValues:
    """Values written with a slip ("cambrige", "the gonville hotell", "resturant alimentum"), found where no value
    matched exactly (or only one inside it: "hotel" in "gonvile hotel").

    A run of words is read as a value when it is within ``allowed_edits`` of it (Damerau: a swap is one edit),
    starts with the same letter (slips seldom hit the first: "mouth" is no "south"), is the value's only one that
    near, and holds a word that is no known word: not a word of the values, nor of the training sentences (less
    the slips they hold themselves, such as "cambrige": a word one edit from a slippable value's word of seven
    letters or more), nor an inflection of a value word ("colleges", "centred"). So "worth" stays worth and "north"
    is never read as another value. ``names``, where given, are the only values a slip is read as: the tracker
    passes the proper names, since a word one edit from a common-word value is as often another English word
    ("hostel", "chap", "collage", "korea" read as hotel, cheap, college, korean). A message whose words are all
    known (most of them) costs a set look-up per word; a run holding another word (neither a value's nor unknown)
    is not compared, nor a value of the same length whose words differ from the run's in more places than it
    allows edits.
    """

    def __init__(self, canonical: dict[str, str], words: Iterable[str], names: Collection[str] | None = None) -> None:
        forms: dict[str, set[str]] = {}
        for form, value in canonical.items():
            written = " ".join(_TOKEN.findall(form))
            if written and not any(ch.isdigit() for ch in written) and allowed_edits(written):
                forms.setdefault(written, set()).add(value)
        self.values = {
            form: next(iter(values))
            for form, values in forms.items()
            if len(values) == 1 and (names is None or values <= set(names))
        }
        self.allowed = {form: allowed_edits(form) for form in self.values}
        self.words = {form: form.split() for form in self.values}
        self.buckets: dict[tuple[str, int, int], list[str]] = {}
        for form in self.values:
            self.buckets.setdefault((form[0], len(form.split()), len(form)), []).append(form)
        self.longest = max((len(form.split()) for form in self.values), default=0)
        self.value_words = {word for form in forms for word in form.split()}
        long_words: dict[tuple[str, int], list[str]] = {}
        for word in {word for form in self.values for word in form.split()}:
            if len(word) >= 7:
                long_words.setdefault((word[0], len(word)), []).append(word)
        slips = {
            word
            for word in words
            if word not in self.value_words
            and not self._inflected(word)
            and any(
                edit_distance(word, w, 1) <= 1
                for size in (len(word) - 1, len(word), len(word) + 1)
                for w in long_words.get((word[:1], size), ())
            )
        }
        self.known = (set(words) - slips) | self.value_words

    def _inflected(self, word: str) -> bool:
        return any(
            word.endswith(ending)
            and (word[: -len(ending)] in self.value_words or f"{word[: -len(ending)]}e" in self.value_words)
            for ending in _INFLECTIONS
        )

    def unknown(self, word: str) -> bool:
        return len(word) >= 4 and word.isalpha() and word not in self.known and not self._inflected(word)

    def find(self, lowered: str, taken: Sequence[tuple[int, int]]) -> list[tuple[str, int, int]]:
        """(value, start, end) of the misspelt values in ``lowered``, the longest first: none overlaps a ``taken``
        span but to hold it whole (a value inside a misspelt name: "hotel" in "gonvile hotel")."""
        if not any(self.unknown(word) for word in _TOKEN.findall(lowered)):
            return []
        tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(lowered)]
        unknown = [i for i, (word, _, _) in enumerate(tokens) if self.unknown(word)]
        unknown_at = set(unknown)
        # a run read as a value holds only value words and unknown ones ("resturant alimentum")
        fits = [word in self.value_words or i in unknown_at for i, (word, _, _) in enumerate(tokens)]
        options: dict[tuple[int, int], tuple[int, set[str]]] = {}
        for i in unknown[:MAX_SLIPPED_WORDS]:
            low, high = i, i
            while low > 0 and fits[low - 1] and i - low + 1 < self.longest:
                low -= 1
            while high + 1 < len(tokens) and fits[high + 1] and high - i + 1 < self.longest:
                high += 1
            for n in range(1, min(self.longest, high - low + 1) + 1):
                for first in range(max(low, i - n + 1), min(i, high - n + 1) + 1):
                    start, end = tokens[first][1], tokens[first + n - 1][2]
                    if (start, end) in options or any(
                        a < end and start < b and not start <= a < b <= end for a, b in taken
                    ):
                        continue
                    words = [word for word, _, _ in tokens[first : first + n]]
                    written = " ".join(words)
                    best: tuple[int, set[str]] = (3, set())
                    for size in range(len(written) - 2, len(written) + 3):
                        for form in self.buckets.get((written[0], n, size), ()):
                            allowed = self.allowed[form]
                            if n > 1 and sum(a != b for a, b in zip(words, self.words[form], strict=True)) > allowed:
                                continue
                            distance = edit_distance(written, form, allowed)
                            if distance <= allowed and distance <= best[0]:
                                values = {self.values[form]}
                                best = (distance, values if distance < best[0] else best[1] | values)
                    if len(best[1]) == 1:
                        options[start, end] = best
        found: list[tuple[str, int, int]] = []
        ranked = sorted(options.items(), key=lambda o: (o[0][0] - o[0][1], o[1][0]))
        for (start, end), (_, values) in ranked:
            if not any(a < end and start < b for _, a, b in found):
                found.append((next(iter(values)), start, end))
        return found


MAX_SLIPPED_WORDS = 16
"""The unknown words of a message around which ``NearValues.find`` looks for a slip, the first ones: a turn names a
few values, and a message of 4,000 characters of unknown words cost the tracker over a second without a bound."""
NAMED_SLOTS = frozenset({"train-depart", "train-dest", "taxi-depart", "taxi-dest"})
"""Slots besides the ``*-name`` ones whose values are proper names (stations, the places a taxi goes between): the
values ``NearValues`` reads a slip as. Users misspell names ("cambrige", "gonvile hotel"), and a word one edit from a
name is seldom an English word of another meaning, where "hostel" is one from hotel and "chap" from cheap."""
TIME = re.compile(r"^\d\d:\d\d$")
CLOCK = re.compile(r"(?<![\w:])((?:[01]\d|2[0-3]):[0-5]\d)(?![\w:])")

Ranked = Sequence[tuple[str, float]]


@dataclass
class Candidate:
    value: str
    start: int
    end: int
    kinds: list[str]
    slots: list[str]


def _kind(slot: str) -> str:
    """What a slot's values look like, shared across domains (``hotel-area`` and ``restaurant-area`` -> ``area``)."""
    return slot.split("-", 1)[1]


def _domain(intent: str | None) -> str | None:
    if not intent or intent.startswith("general") or "-" not in intent:
        return None
    return intent.split("-")[0].lower()


def turn_class(intent: str) -> str:
    """The domain an intent is about, or ``general`` (greetings, thanks, out of scope: the domain stays)."""
    return _domain(intent) or GENERAL


def empty_state() -> dict:
    return {"domain": None, "active_intent": None, "slots": {}, "turn_count": 0}


class DialogueStateTracker:
    """``update(state, text, intents) -> state``; pure: the input state is not modified."""

    def __init__(
        self,
        lexicon: dict[str, list[str]],
        emission_power: float = 1.0,
        prior_power: float = 1.0,
        beam: int = 8,
        change_penalty: float = 0.0,
        aliases: dict[str, str] | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.aliases = dict(aliases or {})
        self.emission_power = emission_power
        self.prior_power = prior_power
        self.beam = beam
        self.change_penalty = change_penalty
        self.kinds: dict[str, list[str]] = {}
        self.slots: dict[str, list[str]] = {}
        for slot, values in lexicon.items():
            for value in values:
                kinds = self.kinds.setdefault(value.lower(), [])
                if _kind(slot) not in kinds:
                    kinds.append(_kind(slot))
                slots = self.slots.setdefault(value.lower(), [])
                if slot not in slots:
                    slots.append(slot)
        for shape in (TIME.match, str.isdigit):
            shared = sorted({k for v, kinds in self.kinds.items() if shape(v) for k in kinds})
            self.kinds |= {v: shared for v in self.kinds if shape(v)}
            slots = sorted({s for v, ss in self.slots.items() if shape(v) for s in ss})
            self.slots |= {v: slots for v in self.slots if shape(v)}
        a_time = next((v for v in self.kinds if TIME.match(v)), None)
        self.time_kinds = self.kinds[a_time] if a_time else []
        self.time_slots = self.slots[a_time] if a_time else []
        if unknown := sorted(alias for alias, value in self.aliases.items() if value not in self.kinds):
            raise ValueError(f"aliases of values the lexicon lacks: {unknown}")
        self.canonical = {v: v for v in self.kinds} | {alias.lower(): v for alias, v in self.aliases.items()}
        # a name the user spells otherwise ("arbury lodge guest house") is that name; a spelling of two values is
        # neither's
        variants: dict[str, set[str]] = {}
        for value in self.kinds:
            for variant in spellings(value):
                variants.setdefault(variant, set()).add(value)
        self.canonical |= {
            variant: next(iter(values))
            for variant, values in variants.items()
            if len(values) == 1 and variant not in self.canonical
        }
        ordered = sorted(self.canonical, key=len, reverse=True)
        self.pattern = re.compile(r"(?<![\w:])(" + "|".join(re.escape(v) for v in ordered) + r")(?![\w:])")
        counted = [s for s in self.slots.get("1", []) if s.endswith(("-people", "-stay"))]
        self.count_slots = counted
        self.count_kinds = sorted({_kind(s) for s in counted})
        self.near = self.near_values(())
        self.classes: list[str] = []
        self.vocabulary: dict[str, int] = {}
        self.coef = np.zeros((0, 0))
        self.intercept = np.zeros(0)
        self.turn_classes: list[str] = sorted({slot.split("-")[0] for slot in lexicon} | {GENERAL})
        self.log_transitions: dict[str, dict[str, float]] = {}
        self.log_priors: dict[str, float] = {}
        self.dialogue_classes: list[str] = []
        self.metrics: dict[str, float] = {}

    def near_values(self, words: Iterable[str]) -> NearValues:
        """The slip reader over the lexicon's proper names (``NAMED_SLOTS`` and the ``*-name`` slots); types,
        prices, foods, areas, days and numbers are read only as written or aliased."""
        named = {slot for slot in self.lexicon if slot.endswith("-name") or slot in NAMED_SLOTS}
        names = {value for value, slots in self.slots.items() if named.intersection(slots)}
        return NearValues(self.canonical, words, names)

    def context_words(self) -> set[str]:
        """Words of the training sentences near their values (the slot model's word features)."""
        return {f.split("=", 1)[1] for f in self.vocabulary if f.startswith(("lbag=", "rbag="))}

    def candidates(self, text: str, near: bool = True) -> list[Candidate]:
        """Lexicon values in ``text`` (an alias or another spelling as its value: "center" is "centre"), any HH:MM
        time the lexicon lacks (a time slot takes any time), "one" where it is a count (as "1"), a count from 9 to
        ``MAX_COUNT`` (``large_counts``: it may fill only a people or stay slot) and, with ``near``, a value
        written with a slip where none matched (``NearValues``)."""
        lowered = text.lower()
        values = [(self.canonical[m.group(1)], m.start(1), m.end(1)) for m in self.pattern.finditer(lowered)]
        found = [Candidate(v, start, end, self.kinds[v], self.slots[v]) for v, start, end in values]
        added = False
        if self.time_slots and ":" in lowered:
            taken = {c.start for c in found}
            found += [
                Candidate(m.group(1), m.start(1), m.end(1), self.time_kinds, self.time_slots)
                for m in CLOCK.finditer(lowered)
                if m.group(1) not in self.kinds and m.start(1) not in taken
            ]
            added = True
        if "one" in lowered and "1" in self.kinds:
            spans = [(c.start, c.end) for c in found]
            found += [
                Candidate("1", start, end, self.kinds["1"], self.slots["1"])
                for start, end in counted_ones(lowered)
                if not any(a <= start < b for a, b in spans)
            ]
            added = True
        if self.count_slots:
            spans = [(c.start, c.end) for c in found]
            large = [
                Candidate(number, start, end, self.count_kinds, self.count_slots)
                for start, end, number in large_counts(lowered)
                if not any(a < end and start < b for a, b in spans)
            ]
            found += large
            added = added or bool(large)
        if near:
            slipped = self.near.find(lowered, [(c.start, c.end) for c in found])
            if slipped:
                found = [c for c in found if not any(a <= c.start and c.end <= b for _, a, b in slipped)]
                found += [Candidate(v, start, end, self.kinds[v], self.slots[v]) for v, start, end in slipped]
                added = True
        if added:
            found.sort(key=lambda c: c.start)
        return found

    @staticmethod
    def features(text: str, candidate: Candidate, domain: str | None) -> list[str]:
        """Kinds of the value, the value itself (not for times), three words either side by position, six as a
        bag, their four-letter prefixes (``arrives``/``arrival`` -> ``arri``), adjacent left pairs, and the domain."""
        lowered = text.lower()
        left = _words_before(lowered, candidate.start)
        right = _words_after(lowered, candidate.end)
        d = domain or "any"
        out = [f"kind={k}" for k in candidate.kinds] + [f"domain={d}"]
        if not TIME.match(candidate.value):
            out += [f"value={candidate.value}", f"domain={d}|value={candidate.value}"]
        out += [f"domain={d}|kind={k}" for k in candidate.kinds]
        out += [f"l{i}={w}" for i, w in enumerate(reversed(left[-3:]))] + [f"r{i}={w}" for i, w in enumerate(right[:3])]
        out += [f"lbag={w}" for w in left] + [f"rbag={w}" for w in right]
        out += [f"lpre={w[:4]}" for w in left] + [f"rpre={w[:4]}" for w in right]
        out += [f"domain={d}|lpre={w[:4]}" for w in left] + [f"lpair={a} {b}" for a, b in itertools.pairwise(left)]
        out += [f"domain={d}|l0={left[-1] if left else '^'}", f"domain={d}|r0={right[0] if right else '$'}"]
        return out

    def fit(
        self, examples: Iterable[tuple[str, str | None, list[tuple[int, int, str]]]], c: float = 0.25
    ) -> "DialogueStateTracker":
        """Examples are (text, intent, slot spans); a candidate inside a filled span is labelled with that slot.

        ``c`` (inverse L2 strength) was chosen on dialogues from validation templates (0.25 vs 1 vs 4)."""
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        rows, labels = [], []
        for text, intent, spans in examples:
            for candidate in self.candidates(text, near=False):
                rows.append(dict.fromkeys(self.features(text, candidate, _domain(intent)), 1.0))
                inside = [slot for start, end, slot in spans if start <= candidate.start and candidate.end <= end]
                labels.append(inside[0] if inside else NONE)
        vectorizer = DictVectorizer()
        x = vectorizer.fit_transform(rows)
        model = LogisticRegression(C=c, max_iter=2000).fit(x, labels)
        self.classes = [str(c) for c in model.classes_]
        self.vocabulary = {k: int(v) for k, v in vectorizer.vocabulary_.items()}
        self.coef = model.coef_.astype(np.float32)
        self.intercept = model.intercept_.astype(np.float32)
        self.near = self.near_values(self.context_words())
        return self

    def slot_scores(self, text: str, candidate: Candidate, domains: dict[str | None, float]) -> np.ndarray:
        """Score of every class (slot or ``none``) for a candidate; slots whose lexicon lacks the value (times and
        numbers: any slot of that shape) get ``-inf``, so a restaurant name never becomes a train station. Slots of
        other domains stay open: the words around a value can overrule the hypothesised domain ("taxi to the pizza
        hut" in a restaurant hypothesis), which scored better on validation dialogues than closing them.

        ``domains`` weights the possible domains (``update`` passes one domain per hypothesis of its beam).
        """
        scores = np.zeros_like(self.intercept)
        for domain, weight in domains.items():
            columns = [self.vocabulary[f] for f in self.features(text, candidate, domain) if f in self.vocabulary]
            scores += weight * (self.intercept + self.coef[:, columns].sum(axis=1))
        allowed = np.array([label == NONE or label in candidate.slots for label in self.classes])
        return np.where(allowed, scores, -np.inf)

    def assign(self, text: str, candidate: Candidate, domains: dict[str | None, float]) -> str:
        """The best class of one candidate on its own (``update`` assigns all of a turn's candidates jointly)."""
        return self.classes[int(np.argmax(self.slot_scores(text, candidate, domains)))]

    def assign_all(
        self,
        text: str,
        candidates: Sequence[Candidate],
        domains: dict[str | None, float],
        filled: dict[str, str] | None = None,
    ) -> list[str]:
        """Joint assignment: (candidate, slot) pairs taken best first, one slot per value and one value per slot,
        so "from norwich to london liverpool street" cannot put both stations in ``train-depart``."""
        return self.pick(candidates, self.slot_log_probs(text, candidates, domains), filled)

    def slot_log_probs(
        self, text: str, candidates: Sequence[Candidate], domains: dict[str | None, float]
    ) -> np.ndarray:
        """Log-softmax of ``slot_scores`` over each candidate's open classes (closed ones stay ``-inf``)."""
        rows = [self.slot_scores(text, c, domains) for c in candidates]
        rows = [r - np.logaddexp.reduce(r[np.isfinite(r)]) for r in rows]
        return np.array(rows) if rows else np.zeros((0, len(self.classes)))

    def pick(
        self,
        candidates: Sequence[Candidate],
        log_probs: np.ndarray,
        filled: dict[str, str] | None = None,
        change_penalty: float | None = None,
    ) -> list[str]:
        """Greedy joint assignment on log-probabilities. A slot already ``filled`` with another value costs
        ``change_penalty`` (the tracker's unless given): users seldom restate a constraint with a new value, so a
        time after "leave at 16:45" goes to the arrival slot rather than overwriting the departure. A word value
        said twice fills one slot, where its likeliest mention puts it ("cheap, really cheap" filled the hotel's
        price and the restaurant's); a number or a time may fill one per mention ("2 people for 2 nights")."""
        filled = filled or {}
        penalty = self.change_penalty if change_penalty is None else change_penalty
        pairs = []
        for i, candidate in enumerate(candidates):
            for j in np.flatnonzero(np.isfinite(log_probs[i])):
                label = self.classes[j]
                changed = filled.get(label, candidate.value) != candidate.value
                pairs.append((float(log_probs[i, j]) - penalty * changed, i, label))
        labels: list[str | None] = [None] * len(candidates)
        used: set[str] = set()
        placed: set[str] = set()
        for _, i, label in sorted(pairs, key=lambda p: -p[0]):
            value = candidates[i].value
            if labels[i] is None and label not in used and (label == NONE or value not in placed):
                labels[i] = label
                if label != NONE:
                    used.add(label)
                    if not any(ch.isdigit() for ch in value):
                        placed.add(value)
        return [label or NONE for label in labels]

    def fit_context(self, dialogues: Iterable[Sequence[str]], intent_counts: dict[str, int]) -> "DialogueStateTracker":
        """Turn-class transitions from the intents of training dialogues (add-one smoothed; ``start`` before the
        first domain) and the intent model's training prior per turn class (its posterior is divided by it)."""
        priors: Counter[str] = Counter()
        for intent, count in intent_counts.items():
            priors[turn_class(intent)] += count
        self.turn_classes = sorted(set(self.turn_classes) | set(priors))
        counts: Counter[tuple[str, str]] = Counter()
        seen: set[str] = set()
        for intents in dialogues:
            context = START
            for intent in intents:
                current = turn_class(intent)
                counts[context, current] += 1
                seen.add(current)
                context = context if current == GENERAL else current
        self.dialogue_classes = sorted(seen)
        contexts = [START, *(c for c in self.turn_classes if c != GENERAL)]
        self.log_transitions = {}
        for context in contexts:
            total = sum(counts[context, c] for c in self.turn_classes) + len(self.turn_classes)
            self.log_transitions[context] = {c: math.log((counts[context, c] + 1) / total) for c in self.turn_classes}
        total = sum(priors.values()) + len(self.turn_classes)
        self.log_priors = {c: math.log((priors[c] + 1) / total) for c in self.turn_classes}
        return self

    def transitions_from(self, context: str | None) -> dict[str, float]:
        """Log transitions from ``context`` (a domain; None is the start) to each turn class. A class that no
        training dialogue holds (hospital and police) takes the least likely transition to a domain they do hold,
        as in ``context_odds``: smoothed alone, "I need a hospital" as a first turn (Hospital-Inform at 0.99) ranked
        that domain seventh of eight, and the state named no domain."""
        transitions = self.log_transitions.get(context or START, self.log_transitions.get(START, {}))
        held = [v for c, v in transitions.items() if c in self.dialogue_classes and c != GENERAL]
        if not held:
            return transitions
        least = min(held)
        unheld = {c for c in transitions if c not in self.dialogue_classes and c != GENERAL}
        return {c: max(v, least) if c in unheld else v for c, v in transitions.items()}

    def context_odds(self, state: dict, text: str | None = None) -> dict[str, float]:
        """How much likelier each turn class is for the conversation's next turn than for a turn of unknown
        context: the transitions from the beam's domains (weighted by their hypotheses' scores) over the prior.
        A class that no training dialogue holds (hospital and police: the dialogue generator has none) gets the odds
        of the least likely domain that they do hold: its smoothed transitions alone made "I am looking for the
        hospital" after a greeting uncertain, and even odds made a hotel's "phone number and postcode" a hospital's.

        With the turn's ``text``, a turn that amends the booking size (``amends_size``) is the conversation's domain's
        alone: the tracker keeps that domain, and the decision's intent must not say another ("make that 4 people"
        read as a train's)."""
        odds = self._transition_odds(state)
        if text is not None and CORRECTION.search(text):
            timed = clock_times(text)
            if self.amends_size(state, timed, self.candidates(timed)):
                return {c: value if c == state["domain"] else 0.0 for c, value in odds.items()}
        return odds

    def _transition_odds(self, state: dict) -> dict[str, float]:
        hypotheses = state.get("hypotheses") or [{"domain": state.get("domain"), "score": 0.0}]
        weights: Counter[str | None] = Counter()
        for hypothesis in hypotheses:
            weights[hypothesis["domain"]] += math.exp(hypothesis["score"])
        total = sum(weights.values())
        expected: Counter[str] = Counter()
        for domain, weight in weights.items():
            transitions = self.log_transitions.get(domain or START, self.log_transitions.get(START, {}))
            for current, log_probability in transitions.items():
                expected[current] += weight / total * math.exp(log_probability)
        known = set(self.dialogue_classes) & set(self.log_priors)
        odds = {c: expected[c] / math.exp(self.log_priors[c]) for c in expected if c in known}
        unseen = min((value for c, value in odds.items() if c != GENERAL), default=1.0)
        return odds | {c: unseen for c in expected if c not in known and c != GENERAL}

    def turn_posterior(self, intents: Ranked | str | None) -> dict[str, float]:
        """What the text alone says about the turn class: a single intent name is taken as certain (``uncertain``
        and none are ``general``); ranked intents are summed per class, the unranked rest spread evenly, floored."""
        if intents is None or isinstance(intents, str):
            named = turn_class(intents) if intents else GENERAL
            return {named if named in self.turn_classes else GENERAL: 1.0}
        mass = dict.fromkeys(self.turn_classes, 0.0)
        for intent, probability in intents:
            mass[turn_class(intent) if turn_class(intent) in mass else GENERAL] += probability
        rest = max(1.0 - sum(mass.values()), 0.0) / len(mass)
        mass = {c: max(m, FLOOR) + rest for c, m in mass.items()}
        total = sum(mass.values())
        return {c: m / total for c, m in mass.items()}

    def update(self, state: dict, text: str, intents: Ranked | str | None = None) -> dict:
        """The state after this user turn; ``intents`` are (intent, probability) best first, or one intent name.

        Every hypothesis of the beam is extended by every turn class: a domain fills the turn's values into that
        domain's slots; ``general`` keeps the hypothesis's domain. Scores add the emission power times the log
        posterior over prior and the log transition; extensions are filled best first until the beam holds
        ``beam`` distinct states (the first of equal states is the best), and the best one is the state. Each
        extension also takes the slots its domain fills without a value (``implied``).
        """
        text = clock_times(text)
        ranked = [(intents, 1.0)] if isinstance(intents, str) else list(intents or [])
        top = ranked[0][0] if ranked else None
        found = self.candidates(text)
        # an amended booking size says nothing of the domain, whatever the intent model reads in "4 people"
        posterior = {GENERAL: 1.0} if self.amends_size(state, text, found) else self.turn_posterior(intents)
        hypotheses = state.get("hypotheses") or [
            {"domain": state.get("domain"), "slots": dict(state.get("slots", {})), "score": 0.0}
        ]
        emissions = {
            c: self.emission_power * (math.log(q) - self.prior_power * self.log_priors.get(c, 0.0))
            for c, q in posterior.items()
        }
        options = []
        for hypothesis in hypotheses:
            transitions = self.transitions_from(hypothesis["domain"])
            for current, emission in emissions.items():
                domain = hypothesis["domain"] if current == GENERAL else current
                options.append((hypothesis["score"] + emission + transitions.get(current, 0.0), domain, hypothesis))
        beam: list[dict] = []
        seen: set[str] = set()
        for score, domain, slots in self._best_extensions(text, options, found):
            key = json.dumps([domain, sorted(slots.items())])
            if key not in seen:
                seen.add(key)
                beam.append({"domain": domain, "slots": slots, "score": score})
                if len(beam) == self.beam:
                    break
        best = beam[0]["score"]
        return {
            "domain": beam[0]["domain"],
            "active_intent": top if top and top != "uncertain" else state.get("active_intent"),
            "slots": dict(beam[0]["slots"]),
            "turn_count": int(state.get("turn_count", 0)) + 1,
            "hypotheses": [{**h, "score": round(h["score"] - best, 6)} for h in beam],
        }

    def amends_size(self, state: dict, text: str, found: Sequence[Candidate]) -> bool:
        """Whether the turn corrects the booking size of the conversation's domain: a correction ("make that 4
        people") whose every value is a count that domain's slots take, and no word naming a domain. The intent
        model reads such a turn alone, and "4 people" read as a train's (0.99 for "make that 4 people") moved a
        restaurant booking to a train."""
        domain = state.get("domain")
        return bool(
            domain
            and found
            and CORRECTION.search(text)
            and not DOMAIN_WORD.search(text)
            and all(c.value.isdigit() and any(s.startswith(f"{domain}-") for s in c.slots) for c in found)
        )

    def _best_extensions(
        self,
        text: str,
        options: Sequence[tuple[float, str | None, dict]],
        found: Sequence[Candidate] | None = None,
    ) -> Iterator[tuple[float, str | None, dict[str, str]]]:
        """Extensions (score, domain, slots) best first, in the order of sorting all of them by final score (ties
        by position in ``options``), but lazily: the change penalty only lowers a score, so an extension is
        yielded once no unscored one can beat it, and the slots of the many that never reach the beam are not
        picked (the costly part: a slot model pass per domain). ``found`` are the text's candidates, if known."""
        lowered = text.lower()
        found = self.candidates(text) if found is None else found
        candidates = [c for c in found if not NEGATED.search(lowered, 0, c.start)][:MAX_VALUES]
        penalty = 0.0 if CORRECTION.search(text) else self.change_penalty
        fillable = {slot for c in candidates for slot in c.slots}
        open_kinds, same = _implied_kinds(text)
        reopening = bool(REOPENED.search(text))
        log_probs: dict[str | None, np.ndarray] = {}
        picks: dict[tuple, dict[str, str]] = {}
        order = sorted(range(len(options)), key=lambda i: -options[i][0])
        scored: list[tuple[float, int, str | None, dict[str, str]]] = []
        next_option = 0
        while next_option < len(order) or scored:
            if next_option < len(order) and (not scored or options[order[next_option]][0] >= -scored[0][0]):
                index = order[next_option]
                next_option += 1
                base, domain, hypothesis = options[index]
                slots = hypothesis["slots"]
                # The pick depends only on the domain and the filled slots this turn's values could change.
                key = (domain, *sorted((slot, value) for slot, value in slots.items() if slot in fillable))
                if key not in picks:
                    if domain not in log_probs:
                        log_probs[domain] = self.slot_log_probs(text, candidates, {domain: 1.0})
                    labels = self.pick(candidates, log_probs[domain], slots, penalty)
                    picks[key] = {label: c.value for c, label in zip(candidates, labels, strict=True) if label != NONE}
                values = picks[key]
                if (open_kinds or same) and domain:
                    values = self.implied(domain, slots, values, open_kinds, same, reopening) | values
                changed = sum(slots.get(slot, value) != value for slot, value in values.items())
                heapq.heappush(scored, (-(base - penalty * changed), index, domain, {**slots, **values}))
            else:
                negative, _, domain, slots = heapq.heappop(scored)
                yield -negative, domain, slots

    def implied(
        self,
        domain: str,
        slots: dict[str, str],
        values: dict[str, str],
        open_kinds: list[str],
        same: list[str],
        reopening: bool = False,
    ) -> dict[str, str]:
        """Slots of ``domain`` the turn fills without a value: ``DONTCARE`` for each kind it leaves open (where the
        ontology allows it) that holds no value yet, or any with a word that reopens it (``REOPENED``: "actually, the
        area doesn't matter"): "any area is fine" after "in the centre" answers another question more often than it
        drops the centre; and for "the same day" / "the same group of people" the day or people of another domain's
        booking (the latest filled) where the slot is empty. A value the turn names for the slot wins (``values``)."""
        out = {}
        for kind in open_kinds:
            slot = _open_slot(domain, kind)
            if slot and slot not in values and (reopening or slot not in slots):
                out[slot] = DONTCARE
        for kind in same:
            slot = f"{domain}-{kind}"
            others = [v for s, v in {**slots, **values}.items() if s.endswith(f"-{kind}") and s != slot]
            if slot in self.lexicon and slot not in values and slot not in slots and others:
                out[slot] = others[-1]
        return out

    def tune(
        self,
        dialogues: Sequence[Sequence[tuple[str, Ranked | str, dict[str, str]]]],
        emission_powers: Sequence[float] = (0.5, 0.7, 1.0),
        prior_powers: Sequence[float] = (0.0, 0.5, 1.0),
        change_penalties: Sequence[float] = (0.0, 1.0, 3.0, 10.0),
    ) -> dict[str, float]:
        """Pick the scoring weights by joint goal accuracy on validation dialogues, each turn a (text, predicted
        intents, true slots) triple: the two powers on a grid without the change penalty, then the penalty (the
        full grid costs too many passes). Returns the chosen values and their accuracy."""
        best = (-1.0, self.emission_power, self.prior_power)
        self.change_penalty = 0.0
        for emission_power, prior_power in itertools.product(emission_powers, prior_powers):
            self.emission_power, self.prior_power = emission_power, prior_power
            accuracy = self.joint_goal_accuracy(dialogues)
            if accuracy > best[0]:
                best = (accuracy, emission_power, prior_power)
        accuracy, self.emission_power, self.prior_power = best
        chosen = (accuracy, 0.0)
        for penalty in change_penalties:
            self.change_penalty = penalty
            accuracy = self.joint_goal_accuracy(dialogues)
            if accuracy > chosen[0]:
                chosen = (accuracy, penalty)
        self.change_penalty = chosen[1]
        return {
            "emission_power": self.emission_power,
            "prior_power": self.prior_power,
            "change_penalty": self.change_penalty,
            "valid_joint_goal_accuracy": chosen[0],
        }

    def joint_goal_accuracy(self, dialogues: Sequence[Sequence[tuple[str, Ranked | str, dict[str, str]]]]) -> float:
        predicted, gold = [], []
        for dialogue in dialogues:
            state = empty_state()
            for text, intents, truth in dialogue:
                state = self.update(state, text, intents)
                predicted.append(state["slots"])
                gold.append(truth)
        return joint_goal_accuracy(predicted, gold)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path.with_suffix(".npz"), coef=self.coef, intercept=self.intercept)
        sidecar = {
            "version": VERSION,
            "lexicon": self.lexicon,
            "aliases": self.aliases,
            "emission_power": self.emission_power,
            "prior_power": self.prior_power,
            "beam": self.beam,
            "change_penalty": self.change_penalty,
            "turn_classes": self.turn_classes,
            "log_transitions": self.log_transitions,
            "log_priors": self.log_priors,
            "dialogue_classes": self.dialogue_classes,
            "classes": self.classes,
            "vocabulary": self.vocabulary,
            "metrics": self.metrics,
        }
        path.with_suffix(".json").write_text(json.dumps(sidecar))

    @classmethod
    def load(cls, path: Path) -> "DialogueStateTracker":
        sidecar = json.loads(path.with_suffix(".json").read_text())
        if sidecar["version"] != VERSION:
            raise ValueError(f"{path}: version {sidecar['version']} != {VERSION}")
        tracker = cls(
            sidecar["lexicon"],
            sidecar["emission_power"],
            sidecar["prior_power"],
            sidecar["beam"],
            sidecar["change_penalty"],
            sidecar["aliases"],
        )
        tracker.turn_classes = sidecar["turn_classes"]
        tracker.log_transitions, tracker.log_priors = sidecar["log_transitions"], sidecar["log_priors"]
        tracker.dialogue_classes = sidecar["dialogue_classes"]
        arrays = np.load(path.with_suffix(".npz"))
        tracker.coef, tracker.intercept = arrays["coef"], arrays["intercept"]
        tracker.classes, tracker.vocabulary = sidecar["classes"], sidecar["vocabulary"]
        tracker.metrics = sidecar["metrics"]
        tracker.near = tracker.near_values(tracker.context_words())
        return tracker


def _as_labelled(predicted: dict[str, str], gold: dict[str, str]) -> dict[str, str]:
    """``predicted`` without the ``DONTCARE`` slots ``gold`` lacks: convlab's user templates never label a slot left
    open ("I do n't care about the price range, but I need free parking" is labelled parking alone), so a truth
    built from them cannot hold one, and such a slot is neither right nor wrong there."""
    return {slot: value for slot, value in predicted.items() if value != DONTCARE or slot in gold}


def joint_goal_accuracy(predicted: Sequence[dict[str, str]], gold: Sequence[dict[str, str]]) -> float:
    """Share of turns whose whole slot dict equals the truth (``DONTCARE`` slots the truth lacks set aside)."""
    return sum(_as_labelled(p, g) == g for p, g in zip(predicted, gold, strict=True)) / max(len(gold), 1)
