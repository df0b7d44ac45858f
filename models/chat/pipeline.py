"""The whole chat path for one message: intents -> dialogue state -> knowledge, with per-stage timings."""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from streamsense.models.chat.dst import DialogueStateTracker, empty_state
from streamsense.models.chat.intent import IntentClassifier, IntentPrediction
from streamsense.models.chat.knowledge import KnowledgeRetriever
from streamsense.models.chat.training import DST, INTENT, KNOWLEDGE, chat_dir, tracker_input


@dataclass
class ChatResult:
    """JSON-able pieces of a ``ChatDecision``: ``label``, ``intents``, ``state`` and ``knowledge``."""

    label: str
    intents: list[dict]
    state: dict
    knowledge: list[dict]
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

    def intents(
        self, texts: Sequence[str], threshold: float = 0.85, top_k: int = 3
    ) -> tuple[list[IntentPrediction], float]:
        """The intents of a batch of messages in one pass of the model, and its time per message (ms). Intents do
        not depend on the conversation, so a worker predicts a whole batch's at once and hands each to
        ``process``; the state and the knowledge follow message by message."""
        started = time.perf_counter()
        predictions = self.intent.predict_batch(texts, threshold=threshold, top_k=top_k)
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
        and its time from ``intents`` (else it is predicted here, with ``threshold`` and ``top_k``)."""
        state = state or empty_state()
        if intents is None:
            (prediction,), intent_ms = self.intents([text], threshold, top_k)
        else:
            prediction, intent_ms = intents
        t1 = time.perf_counter()
        # A low-confidence prediction still says which domains are likely; out-of-scope text without values does not.
        new_state = self.tracker.update(state, text, tracker_input(prediction, self.tracker, text))
        t2 = time.perf_counter()
        hits = self.knowledge.retrieve(text, new_state, prediction.intents, k=k)
        t3 = time.perf_counter()
        return ChatResult(
            label=prediction.label,
            intents=[{"intent": i, "probability": p} for i, p in prediction.intents],
            state=new_state,
            knowledge=[h.__dict__ for h in hits],
            timings_ms={"intent": intent_ms, "dst": (t2 - t1) * 1e3, "knowledge": (t3 - t2) * 1e3},
        )
