"""The rules for intents added at run time and for feedback, and a ledger that folds those events as the chat
workers apply them.

Every chat worker reads ``chat.intents`` and ``chat.feedback`` whole, in the order the broker wrote them
(``streams/follower.py``): a new intent is added unless its name is a trained one's, a tombstone removes an added
intent, and feedback teaches the model only an intent known when it was written. The ledger applies the same
rules to the same events without the model, so that ``streamsense report intents`` tells what every worker holds.
"""

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from streamsense.models.chat.intent import FALLBACK
from streamsense.schemas.chat import ChatFeedback, NewIntent


def new_name_refusal(name: str, trained: Collection[str]) -> str | None:
    """Why no worker adds an intent called ``name``, or None: a trained intent or the fallback keeps its name."""
    if name in trained or name == FALLBACK:
        return f"{name!r} is a trained intent or the fallback label: a new intent needs a new name"
    return None


def removal_refusal(name: str, trained: Collection[str]) -> str | None:
    """Why no worker removes the intent ``name``, or None: only intents added at run time can be removed."""
    if not name or name in trained or name == FALLBACK:
        return f"{name!r} is not an intent added at run time: only those can be removed"
    return None


@dataclass
class AddedIntent:
    """An intent added at run time: its examples in force, dated by the event that gave them."""

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

    def add(self, new: NewIntent) -> None:
        if new_name_refusal(new.intent, self.trained):
            self.refused["intent with a trained name"] += 1
            return
        self.added[new.intent] = AddedIntent(len(new.examples), new.event_time.isoformat())
        self.removed.discard(new.intent)

    def remove(self, name: str) -> None:
        if name in self.added:
            del self.added[name]
            self.removed.add(name)

    def learn(self, feedback: ChatFeedback) -> None:
        if feedback.intent in self.trained or feedback.intent in self.added:
            self.learned[feedback.intent] += 1
        else:
            self.refused["feedback for an unknown intent"] += 1

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
