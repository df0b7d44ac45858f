"""Dialogue state tracker: ontology values found in the text, each assigned to a slot by a linear model.

Recognition is a lexicon match against the database/ontology values (longest first); which slot a value fills
(``hotel-stars`` or ``hotel-people`` for "4", ``train-depart`` or ``train-dest`` for a station) is decided by a
logistic regression over the words around it, the value's kinds and the domain of the current intent.
State is a JSON-able dict, so the caller can keep it in a table keyed by conversation.
"""

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VERSION = "dst-2"
NONE = "none"
WORD = re.compile(r"\d\d:\d\d|[^\W_]+")
TIME = re.compile(r"^\d\d:\d\d$")


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


def empty_state() -> dict:
    return {"domain": None, "active_intent": None, "slots": {}, "turn_count": 0}


class DialogueStateTracker:
    """``update(state, text, intents) -> state``; pure: the input state is not modified."""

    def __init__(self, lexicon: dict[str, list[str]], text_power: float = 1.0, context_bonus: float = 0.0) -> None:
        self.lexicon = lexicon
        self.text_power = text_power
        self.context_bonus = context_bonus
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
            Candidate(m.group(1), m.start(1), m.end(1), self.kinds[m.group(1)], self.slots[m.group(1)])
            for m in self.pattern.finditer(lowered)
        ]

    @staticmethod
    def features(text: str, candidate: Candidate, domain: str | None) -> list[str]:
        """Kinds of the value, the value itself (not for times), three words either side by position, six as a
        bag, and the domain."""
        lowered = text.lower()
        left = WORD.findall(lowered[: candidate.start])[-6:]
        right = WORD.findall(lowered[candidate.end :])[:6]
        d = domain or "any"
        out = [f"kind={k}" for k in candidate.kinds] + [f"domain={d}"]
        if not TIME.match(candidate.value):
            out += [f"value={candidate.value}", f"domain={d}|value={candidate.value}"]
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

    def slot_scores(self, text: str, candidate: Candidate, domains: dict[str | None, float]) -> np.ndarray:
        """Score of every class (slot or ``none``) for a candidate; slots whose lexicon lacks the value (times and
        numbers: any slot of that shape) get ``-inf``, so a restaurant name never becomes a train station.

        ``domains`` weights the possible domains (see ``domain_weights``), so a wrong top intent with a runner-up
        of the right domain still leaves room for the right slot.
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

    def assign_all(self, text: str, candidates: Sequence[Candidate], domains: dict[str | None, float]) -> list[str]:
        """Joint assignment: (candidate, slot) pairs taken best first, one slot per value and one value per slot,
        so "from norwich to london liverpool street" cannot put both stations in ``train-depart``."""
        pairs = []
        for i, candidate in enumerate(candidates):
            scores = self.slot_scores(text, candidate, domains)
            pairs += [(float(scores[j]), i, j) for j in np.flatnonzero(np.isfinite(scores))]
        labels: list[str | None] = [None] * len(candidates)
        used: set[str] = set()
        for _, i, j in sorted(pairs, key=lambda p: -p[0]):
            label = self.classes[j]
            if labels[i] is None and label not in used:
                labels[i] = label
                if label != NONE:
                    used.add(label)
        return [label or NONE for label in labels]

    def domain_weights(self, state: dict, ranked: Sequence[tuple[str, float]]) -> dict[str | None, float]:
        """Which domain this turn is about: the intents' probability mass per domain, sharpened or softened by
        ``text_power``, times ``exp(context_bonus)`` for the conversation's current domain, normalised.

        A context-free intent model is often sure and wrong on "how about monday ?"; the current domain resolves
        it. A general or unknown intent (thanks, bye, uncertain) counts for the current domain.
        """
        current = state.get("domain")
        mass: dict[str | None, float] = {}
        for intent, probability in ranked:
            domain = _domain(intent) or current
            mass[domain] = mass.get(domain, 0.0) + probability
        if not mass:
            return {current: 1.0}
        if current is not None and current not in mass:
            mass[current] = max(1.0 - sum(mass.values()), 1e-3)
        logits = {
            d: self.text_power * math.log(max(m, 1e-6)) + (self.context_bonus if d and d == current else 0.0)
            for d, m in mass.items()
        }
        peak = max(logits.values())
        weights = {d: math.exp(v - peak) for d, v in logits.items()}
        total = sum(weights.values())
        return {d: w / total for d, w in weights.items()}

    def update(self, state: dict, text: str, intents: Sequence[tuple[str, float]] | str | None = None) -> dict:
        """The state after this user turn; ``intents`` are (intent, probability) best first, or one intent name.

        The state's domain becomes the most likely domain of the turn (see ``domain_weights``); general intents
        (thanks, bye) and unknown ones keep the conversation's current domain.
        """
        ranked = [(intents, 1.0)] if isinstance(intents, str) else list(intents or [])
        domains = self.domain_weights(state, ranked)
        top = ranked[0][0] if ranked else None
        slots = dict(state.get("slots", {}))
        candidates = self.candidates(text)
        for candidate, label in zip(candidates, self.assign_all(text, candidates, domains), strict=True):
            if label != NONE:
                slots[label] = candidate.value
        named = {d: w for d, w in domains.items() if d is not None}
        return {
            "domain": max(named, key=named.__getitem__) if named else state.get("domain"),
            "active_intent": top if top and top != "uncertain" else state.get("active_intent"),
            "slots": slots,
            "turn_count": int(state.get("turn_count", 0)) + 1,
        }

    def tune_context(
        self,
        dialogues: Sequence[Sequence[tuple[str, Sequence[tuple[str, float]], dict[str, str]]]],
        powers: Sequence[float] = (0.25, 0.5, 1.0),
        bonuses: Sequence[float] = (0.0, 1.0, 2.0, 3.0, 4.0),
    ) -> dict[str, float]:
        """Pick ``text_power`` and ``context_bonus`` by joint goal accuracy on validation dialogues, each turn a
        (text, predicted intents, true slots) triple. Returns the chosen values and their accuracy."""
        best = (-1.0, 1.0, 0.0)
        for power in powers:
            for bonus in bonuses:
                self.text_power, self.context_bonus = power, bonus
                predicted, gold = [], []
                for dialogue in dialogues:
                    state = empty_state()
                    for text, ranked, truth in dialogue:
                        state = self.update(state, text, ranked)
                        predicted.append(state["slots"])
                        gold.append(truth)
                accuracy = joint_goal_accuracy(predicted, gold)
                if accuracy > best[0]:
                    best = (accuracy, power, bonus)
        self.text_power, self.context_bonus = best[1], best[2]
        return {"text_power": best[1], "context_bonus": best[2], "valid_joint_goal_accuracy": best[0]}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path.with_suffix(".npz"), coef=self.coef, intercept=self.intercept)
        sidecar = {
            "version": VERSION,
            "lexicon": self.lexicon,
            "text_power": self.text_power,
            "context_bonus": self.context_bonus,
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
        tracker = cls(sidecar["lexicon"], sidecar["text_power"], sidecar["context_bonus"])
        arrays = np.load(path.with_suffix(".npz"))
        tracker.coef, tracker.intercept = arrays["coef"], arrays["intercept"]
        tracker.classes, tracker.vocabulary = sidecar["classes"], sidecar["vocabulary"]
        tracker.metrics = sidecar["metrics"]
        return tracker


def joint_goal_accuracy(predicted: Sequence[dict[str, str]], gold: Sequence[dict[str, str]]) -> float:
    """Share of turns whose whole slot dict equals the truth."""
    return sum(p == g for p, g in zip(predicted, gold, strict=True)) / max(len(gold), 1)
