"""The rules for intents added at run time and for feedback, and a ledger that folds those events as the chat
workers apply them.

Every chat worker reads ``chat.intents`` and ``chat.feedback`` whole, in the order the broker wrote them
(``streams/follower.py``): a new intent is added unless its name is a trained one's, a tombstone removes an added
intent, and feedback teaches the model only an intent known when it was written. A worker's ledger says which
events its model applies, and when each added intent was known, by which the stream's consumer group judges
feedback; ``streamsense report intents`` folds the same events with the same ledger, without the model, to tell
what every worker holds.
"""

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from streamsense.models.chat.intent import FALLBACK
from streamsense.schemas.chat import ChatFeedback, NewIntent


def new_name_refusal(name: str, trained: Collection[str]) -> str | None:
    """Why no worker adds an intent called ``name``, or None: a trained intent or the fallback keeps its name, also
    written in other case (``hotel-inform`` beside ``Hotel-Inform`` would split one intent's decisions in two)."""
    taken = {other.casefold(): other for other in (*trained, FALLBACK)}
    if (other := taken.get(name.casefold())) is not None:
        return f"{name!r} is the trained intent or the fallback label {other!r}: a new intent needs a new name"
    return None


def removal_refusal(name: str, trained: Collection[str]) -> str | None:
    """Why no worker removes the intent ``name``, or None: only intents added at run time can be removed (a trained
    one written in other case is still a trained one)."""
    if not name or name.casefold() in {other.casefold() for other in (*trained, FALLBACK)}:
        return f"{name!r} is not an intent added at run time: only those can be removed"
    return None


@dataclass
class AddedIntent:
    """An intent added at run time: its examples in force, dated by when the broker wrote the event that gave them
    (by the event's own time where the broker does not date them)."""

    examples: int
    since: str


@dataclass
class IntentLedger:
    """The intents and the feedback that the workers hold after the events folded so far, in the broker's order."""

    trained: Sequence[str]
    added: dict[str, AddedIntent] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    learned: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    history: dict[str, list[tuple[float, bool]]] = field(default_factory=dict)

    def spelled(self, name: str) -> str | None:
        """The added intent called ``name`` in any case: names are compared without case, as trained ones are, so
        that ``hotel-pets`` after ``Hotel-Pets`` does not split one intent's examples and decisions in two."""
        folded = name.casefold()
        return next((added for added in self.added if added.casefold() == folded), None)

    def add(self, new: NewIntent, appended: float | None = None) -> bool:
        """Whether the workers add (or update) the intent; ``appended`` is when the broker wrote the event. An added
        intent's name in other case replaces it (``spelled`` tells which, for the model to drop)."""
        if new_name_refusal(new.intent, self.trained):
            self.refused["intent with a trained name"] += 1
            return False
        at = new.event_time.timestamp() if appended is None else appended
        if (other := self.spelled(new.intent)) not in (None, new.intent):
            self._drop(other, at)
        self.added[new.intent] = AddedIntent(len(new.examples), datetime.fromtimestamp(at, UTC).isoformat())
        self.removed.discard(new.intent)
        self.history.setdefault(new.intent, []).append((at, True))
        return True

    def remove(self, name: str, appended: float | None = None) -> str | None:
        """The added intent the workers remove for a tombstone keyed ``name`` (in any case), or None."""
        added = self.spelled(name)
        if added is None:
            trained = removal_refusal(name, self.trained) is not None
            self.refused["removal of a trained intent" if trained else "removal of an intent not added"] += 1
            return None
        self._drop(added, appended)
        return added

    def _drop(self, name: str, appended: float | None) -> None:
        del self.added[name]
        self.removed.add(name)
        if appended is not None:
            self.history[name].append((appended, False))

    def learn(self, feedback: ChatFeedback, appended: float | None = None) -> bool:
        """Whether the workers learn ``feedback``: its intent is known when it comes."""
        if feedback.intent in self.trained or feedback.intent in self.added:
            self.learned[feedback.intent] += 1
            return True
        self.refused["feedback for an unknown intent"] += 1
        return False

    def known_at(self, name: str, appended: float) -> bool:
        """Whether the intent ``name`` was known to the workers when the broker wrote, at ``appended``, an event
        that came after the intents events folded so far (an intents event written in the same millisecond comes
        first, as the followers order them)."""
        if name in self.trained:
            return True
        present = [known for at, known in self.history.get(name, []) if at <= appended]
        return bool(present) and present[-1]

    def dump(self) -> dict:
        """The ledger as plain lists and dicts, for a worker's snapshot (``load`` takes it up)."""
        return {
            "added": {name: [a.examples, a.since] for name, a in self.added.items()},
            "removed": sorted(self.removed),
            "learned": dict(self.learned),
            "refused": dict(self.refused),
            "history": {name: [[at, known] for at, known in h] for name, h in self.history.items()},
        }

    @classmethod
    def load(cls, trained: Sequence[str], dumped: dict) -> "IntentLedger":
        return cls(
            trained,
            {name: AddedIntent(examples, since) for name, (examples, since) in dumped["added"].items()},
            set(dumped["removed"]),
            Counter(dumped["learned"]),
            Counter(dumped["refused"]),
            {name: [(at, known) for at, known in h] for name, h in dumped["history"].items()},
        )

    def report(self) -> dict:
        """The trained and added intents with the feedback each learned, the intents removed, what was refused."""
        return {
            "trained": {name: {"feedback_learned": self.learned[name]} for name in self.trained},
            "added": {
                name: {"examples": a.examples, "since": a.since, "feedback_learned": self.learned[name]}
                for name, a in sorted(self.added.items())
            },
            "removed": sorted(self.removed),
            "refused": dict(sorted(self.refused.items())),
        }
