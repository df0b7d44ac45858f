"""The whole chat path for one message: intents -> dialogue state -> knowledge, with per-stage timings."""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from streamsense.models.chat.dst import DialogueStateTracker, empty_state
from streamsense.models.chat.intent import FALLBACK, IntentClassifier, IntentPrediction
from streamsense.models.chat.intent_context import predict_in_context
from streamsense.models.chat.knowledge import KnowledgeRetriever
from streamsense.models.chat.training import DST, INTENT, KNOWLEDGE, chat_dir, tracker_input

TRACKER_TOP_K = 3
"""The tracker reads the model's best three intents (the rest spread evenly), as it was tuned; the decision's
``top_k`` does not change what it reads."""


@dataclass
class ChatResult:
    """JSON-able pieces of a ``ChatDecision``: ``label``, ``intents``, ``state`` and ``knowledge``; the label and
    intents are the message's in its conversation, ``text_label`` the message's alone."""

    label: str
    intents: list[dict]
    state: dict
    knowledge: list[dict]
    text_label: str
    timings_ms: dict[str, float] = field(default_factory=dict)


class ChatPipeline:
    """Stateless between calls: the caller keeps ``state`` per conversation and passes it back in."""

    def __init__(self, intent: IntentClassifier, tracker: DialogueStateTracker, knowledge: KnowledgeRetriever) -> None:
        self.intent = intent
        self.tracker = tracker
        self.knowledge = knowledge

    @classmethod
    def load(cls, artifact_dir: Path) -> "ChatPipeline":
        root = chat_dir(artifact_dir)
        return cls(
            IntentClassifier.load(root / INTENT),
            DialogueStateTracker.load(root / DST),
            KnowledgeRetriever.load(root / KNOWLEDGE),
        )

    def intents(self, texts: Sequence[str], threshold: float = 0.85) -> tuple[list[IntentPrediction], float]:
        """The intents of a batch of messages alone, ranked over every intent, in one pass of the model, and its
        time per message (ms). The model reads no conversation, so a worker predicts a whole batch's at once and
        hands each to ``process``; the state, the intents in context and the knowledge follow message by message."""
        started = time.perf_counter()
        predictions = self.intent.predict_batch(texts, threshold=threshold, top_k=len(self.intent.labels))
        return predictions, (time.perf_counter() - started) * 1e3 / max(len(texts), 1)

    def process(
        self,
        state: dict | None,
        text: str,
        threshold: float = 0.85,
        top_k: int = 3,
        k: int = 3,
        intents: tuple[IntentPrediction, float] | None = None,
    ) -> ChatResult:
        """The message's result from the conversation's ``state`` before it; ``intents`` is the message's prediction
        alone and its time from ``intents`` (else it is predicted here). ``threshold`` and ``top_k`` apply to the
        intents in context, which the decision reports and the knowledge lookup reads."""
        state = state or empty_state()
        if intents is None:
            (prediction,), intent_ms = self.intents([text], threshold)
        else:
            prediction, intent_ms = intents
        t1 = time.perf_counter()
        alone = IntentPrediction(prediction.label, prediction.intents[:TRACKER_TOP_K], prediction.reason)
        # A low-confidence prediction still says which domains are likely; out-of-scope text without values does not.
        tracked = tracker_input(alone, self.tracker, text)
        in_context = predict_in_context(prediction, self.tracker.context_odds(state, text), threshold, top_k)
        new_state = self.tracker.update(state, text, tracked)
        # the decision's own intent, as in its label: an uncertain message leaves the active one as it was
        if not isinstance(tracked, str):
            confident = in_context.label != FALLBACK
            new_state["active_intent"] = in_context.label if confident else state.get("active_intent")
        t2 = time.perf_counter()
        hits = self.knowledge.retrieve(text, new_state, in_context.intents, k=k)
        t3 = time.perf_counter()
        return ChatResult(
            label=in_context.label,
            intents=[{"intent": i, "probability": p} for i, p in in_context.intents],
            state=new_state,
            knowledge=[h.__dict__ for h in hits],
            text_label=prediction.label,
            timings_ms={"intent": intent_ms, "dst": (t2 - t1) * 1e3, "knowledge": (t3 - t2) * 1e3},
        )
