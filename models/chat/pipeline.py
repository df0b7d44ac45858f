"""The whole chat path for one message: intents -> dialogue state -> knowledge, with per-stage timings."""

import time
from dataclasses import dataclass, field
from pathlib import Path

from streamsense.models.chat.dst import DialogueStateTracker, empty_state
from streamsense.models.chat.intent import IntentClassifier
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

    def process(self, state: dict | None, text: str, threshold: float = 0.85, top_k: int = 3, k: int = 3) -> ChatResult:
        state = state or empty_state()
        t0 = time.perf_counter()
        prediction = self.intent.predict(text, threshold=threshold, top_k=top_k)
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
            timings_ms={"intent": (t1 - t0) * 1e3, "dst": (t2 - t1) * 1e3, "knowledge": (t3 - t2) * 1e3},
        )
