"""Chat worker: intents, dialogue state and knowledge for each message; online learning from feedback.

Each conversation's dialogue state lives in a Faust table keyed by conversation, on the partition that
owns the conversation, and recovers from its changelog after a restart; a replayed last message does not
count twice.
"""

import hashlib
import time
from datetime import UTC, datetime

import faust
import torch

from streamsense.models.chat.pipeline import ChatPipeline
from streamsense.models.chat.training import chat_dir
from streamsense.schemas.base import ModelRef
from streamsense.schemas.chat import ChatDecision, ChatFeedback, ChatMessage, DialogueState, IntentScore, KnowledgeHit
from streamsense.settings import get_settings
from streamsense.streams.processing import BatchProcessor, Skip
from streamsense.streams.topics import CHAT_FEEDBACK, CHAT_MESSAGES

MODEL_NAME = "chat-intent-dst-gnn"


def missing_artifacts() -> str | None:
    root = chat_dir(get_settings().artifact_dir)
    done = (root / "summary.json").exists()
    return None if done else f"no trained chat models in {root}: run `streamsense train chat` first"


def install(app: faust.App, processor: BatchProcessor) -> ChatPipeline:
    """Declare the chat table and agents on ``app``; returns the live pipeline."""
    missing = missing_artifacts()
    if missing:
        raise RuntimeError(missing)
    torch.set_num_threads(1)  # one worker process per core scales better than intra-op threads
    pipeline = ChatPipeline.load(get_settings().artifact_dir)
    settings = processor.settings
    summary = chat_dir(get_settings().artifact_dir) / "summary.json"
    model = ModelRef(name=MODEL_NAME, version=hashlib.sha256(summary.read_bytes()).hexdigest()[:12])
    states = app.Table("chat-dialogue-state", default=None, partitions=settings.topic_partitions)

    def decide(message: ChatMessage, received: float) -> ChatDecision:
        # Delivery is at-least-once: after a restart the last message of a conversation may come again.
        # The table keeps the state before that message, so a replay yields the same decision and state.
        entry = states.get(message.conversation_id) or {"state": None, "before": None, "last_event_id": None}
        replay = entry["last_event_id"] == message.event_id
        before = entry["before"] if replay else entry["state"]
        result = pipeline.process(before, message.text, settings.intent_threshold, settings.intent_top_k)
        # a replay writes its entry again, for a changelog that lost the write when the worker died
        states[message.conversation_id] = (
            entry if replay else {"state": result.state, "before": before, "last_event_id": message.event_id}
        )
        return ChatDecision(
            event_id=message.event_id,
            event_time=message.event_time,
            decided_at=datetime.now(UTC),
            key=message.conversation_id,
            model=model,
            score=result.intents[0]["probability"] if result.intents else 0.0,
            label=result.label,
            intents=[IntentScore(**i) for i in result.intents],
            state=DialogueState(**result.state),
            knowledge=[KnowledgeHit(**hit) for hit in result.knowledge],
            features={"text_chars": len(message.text), **{f"{k}_ms": v for k, v in result.timings_ms.items()}},
            latency_ms=(time.perf_counter() - received) * 1000,
        )

    def learn(feedback: ChatFeedback, received: float) -> None:
        if feedback.intent not in pipeline.intent.labels:
            raise Skip(f"unknown intent {feedback.intent!r}: add it with a few examples first")
        pipeline.intent.learn_one(feedback.text, feedback.intent)

    @app.agent(processor.raw_topic(CHAT_MESSAGES), name="chat-decide")
    async def decide_messages(stream: faust.StreamT) -> None:
        await processor.run(stream, ChatMessage, decide)

    @app.agent(processor.raw_topic(CHAT_FEEDBACK), name="chat-learn")
    async def learn_feedback(stream: faust.StreamT) -> None:
        await processor.run(stream, ChatFeedback, learn)

    return pipeline
