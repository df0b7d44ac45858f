"""Dialogue state tracker: ontology values found in the text, each assigned to a slot by a linear model.

Recognition is a lexicon match against the database/ontology values (longest first); which slot a value fills
(``hotel-stars`` or ``hotel-people`` for "4", ``train-depart`` or ``train-dest`` for a station) is decided by a
logistic regression over the words around it, the value's kinds and the domain of the current intent.
State is a JSON-able dict, so the caller can keep it in a table keyed by conversation.
"""

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VERSION = "dst-1"
NONE = "none"
WORD = re.compile(r"\d\d:\d\d|[^\W_]+")
TIME = re.compile(r"^\d\d:\d\d$")


@dataclass
class Candidate:
    value: str
    start: int
    end: int
    kinds: list[str]


def _kind(slot: str) -> str:
    """What a slot's values look like, shared across domains (``hotel-area`` and ``restaurant-area`` -> ``area``)."""
    return slot.split("-", 1)[1]


def _domain(intent: str | None) -> str | None:
    if not intent or intent.startswith("general") or "-" not in intent:
        return None
    return intent.split("-")[0].lower()


def empty_state() -> dict:
    return {"domain": None, "active_intent": None, "slots": {}, "turn_count": 0}


class DialogueStateTracker:
    """``update(state, text, intents) -> state``; pure: the input state is not modified."""

    def __init__(self, lexicon: dict[str, list[str]]) -> None:
        self.lexicon = lexicon
        self.kinds: dict[str, list[str]] = {}
        for slot, values in lexicon.items():
            for value in values:
                kinds = self.kinds.setdefault(value.lower(), [])
                if _kind(slot) not in kinds:
                    kinds.append(_kind(slot))
        for shape in (TIME.match, str.isdigit):
            shared = sorted({k for v, kinds in self.kinds.items() if shape(v) for k in kinds})
            self.kinds |= {v: shared for v in self.kinds if shape(v)}
        ordered = sorted(self.kinds, key=len, reverse=True)
        self.pattern = re.compile(r"(?<![\w:])(" + "|".join(re.escape(v) for v in ordered) + r")(?![\w:])")
        self.classes: list[str] = []
        self.vocabulary: dict[str, int] = {}
        self.coef = np.zeros((0, 0))
        self.intercept = np.zeros(0)
        self.metrics: dict[str, float] = {}

    def candidates(self, text: str) -> list[Candidate]:
        lowered = text.lower()
        return [
            Candidate(m.group(1), m.start(1), m.end(1), self.kinds[m.group(1)]) for m in self.pattern.finditer(lowered)
        ]

    @staticmethod
    def features(text: str, candidate: Candidate, domain: str | None) -> list[str]:
        """Kinds of the value, three words either side by position, six as a bag, and the domain."""
        lowered = text.lower()
        left = WORD.findall(lowered[: candidate.start])[-6:]
        right = WORD.findall(lowered[candidate.end :])[:6]
        d = domain or "any"
        out = [f"kind={k}" for k in candidate.kinds] + [f"domain={d}"]
        out += [f"domain={d}|kind={k}" for k in candidate.kinds]
        out += [f"l{i}={w}" for i, w in enumerate(reversed(left[-3:]))] + [f"r{i}={w}" for i, w in enumerate(right[:3])]
        out += [f"lbag={w}" for w in left] + [f"rbag={w}" for w in right]
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
            for candidate in self.candidates(text):
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
        return self

    def assign(self, text: str, candidate: Candidate, domains: dict[str | None, float]) -> str:
        """The slot a candidate fills, or ``none``; slot kind must match the value's kinds.

        ``domains`` weights the possible domains (intent probabilities), so a wrong top intent with a runner-up
        of the right domain still leaves room for the right slot.
        """
        scores = np.zeros_like(self.intercept)
        for domain, weight in domains.items():
            columns = [self.vocabulary[f] for f in self.features(text, candidate, domain) if f in self.vocabulary]
            scores += weight * (self.intercept + self.coef[:, columns].sum(axis=1))
        for i in np.argsort(-scores):
            label = self.classes[i]
            if label == NONE or _kind(label) in candidate.kinds:
                return label
        return NONE

    def update(self, state: dict, text: str, intents: Sequence[tuple[str, float]] | str | None = None) -> dict:
        """The state after this user turn; ``intents`` are (intent, probability) best first, or one intent name.

        General intents (thanks, bye) and unknown ones keep the conversation's current domain.
        """
        ranked = [(intents, 1.0)] if isinstance(intents, str) else list(intents or [])
        domains: dict[str | None, float] = {}
        for intent, probability in ranked:
            domain = _domain(intent) or state.get("domain")
            domains[domain] = domains.get(domain, 0.0) + probability
        if not domains:
            domains = {state.get("domain"): 1.0}
        top = ranked[0][0] if ranked else None
        slots = dict(state.get("slots", {}))
        for candidate in self.candidates(text):
            label = self.assign(text, candidate, domains)
            if label != NONE:
                slots[label] = candidate.value
        return {
            "domain": _domain(top) or state.get("domain"),
            "active_intent": top if top and top != "uncertain" else state.get("active_intent"),
            "slots": slots,
            "turn_count": int(state.get("turn_count", 0)) + 1,
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path.with_suffix(".npz"), coef=self.coef, intercept=self.intercept)
        sidecar = {
            "version": VERSION,
            "lexicon": self.lexicon,
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
        tracker = cls(sidecar["lexicon"])
        arrays = np.load(path.with_suffix(".npz"))
        tracker.coef, tracker.intercept = arrays["coef"], arrays["intercept"]
        tracker.classes, tracker.vocabulary = sidecar["classes"], sidecar["vocabulary"]
        tracker.metrics = sidecar["metrics"]
        return tracker


def joint_goal_accuracy(predicted: Sequence[dict[str, str]], gold: Sequence[dict[str, str]]) -> float:
    """Share of turns whose whole slot dict equals the truth."""
    return sum(p == g for p, g in zip(predicted, gold, strict=True)) / max(len(gold), 1)
