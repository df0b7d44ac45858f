"""Chat worker: intents, dialogue state and knowledge for each message; intents added at run time from a few
examples (``chat.intents``; a tombstone, its key with no value, removes one) and online learning from feedback
(``chat.feedback``), both of which every worker reads whole (``streams/follower.py``), so that every replica, and one
restarted, knows them all.

Each conversation's dialogue state lives in a Faust table keyed by conversation, on the partition that
owns the conversation, and recovers from its changelog after a restart; a conversation silent for longer than
``chat_idle_s`` ends, and its entry leaves the table; messages delivered again after a crash or
a rebalance do not count twice (``models/chat/conversation.py``). Intents are predicted for a whole batch at once.
"""

import asyncio
import hashlib
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import faust
import torch
from faust.types import EventT, Message

from streamsense.models.chat.conversation import Entry, after_turn, conversation_entry, idle, state_before
from streamsense.models.chat.intent_ledger import IntentLedger, new_name_refusal, removal_refusal
from streamsense.models.chat.pipeline import ChatPipeline, ChatResult
from streamsense.models.chat.training import chat_dir
from streamsense.schemas.base import ModelRef
from streamsense.schemas.chat import (
    ChatDecision,
    ChatFeedback,
    ChatMessage,
    DialogueState,
    IntentScore,
    KnowledgeHit,
    NewIntent,
)
from streamsense.settings import get_settings
from streamsense.streams.admin import topic_ids
from streamsense.streams.codec import appended_at, key_text
from streamsense.streams.follower import Positions, applied, decoding, follow_forever
from streamsense.streams.learned_snapshot import Snapshot, load_snapshot, save_snapshot
from streamsense.streams.packed_table import PackedTable
from streamsense.streams.processing import BatchProcessor, Item, Skip, route_table_access
from streamsense.streams.topics import CHAT_FEEDBACK, CHAT_INTENTS, CHAT_MESSAGES

log = logging.getLogger(__name__)
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
    states = PackedTable(app, "chat-conversations", settings.topic_partitions)
    newest: dict[int, float] = {}  # per partition of chat.messages, the newest event time decided here

    def decide_many(items: list[Item]) -> list[ChatDecision]:
        """One pass of the intent model for the batch; then each message in order, from its conversation's state
        before it (a conversation with several messages in the batch reads what the earlier ones left)."""
        texts = [item.record.text for item in items]
        predictions, intent_ms = pipeline.intents(texts, settings.intent_threshold)
        entries: dict[str, Entry] = {}
        last_event: dict[str, EventT] = {}
        decisions: list[ChatDecision] = []
        for item, prediction in zip(items, predictions, strict=True):
            message: ChatMessage = item.record
            conversation = message.conversation_id
            if conversation not in entries:
                route_table_access(item.event)
                entries[conversation] = states.get(conversation)
            # every message, not only a batch's first of its conversation: one days after the last starts anew
            entries[conversation] = conversation_entry(
                entries[conversation], message.event_time.timestamp(), settings.chat_idle_s
            )
            # a message seen again (at-least-once delivery) is decided from the state before it and changes nothing
            applied, before = state_before(entries[conversation], message.event_id)
            result = pipeline.process(
                before,
                message.text,
                threshold=settings.intent_threshold,
                top_k=settings.intent_top_k,
                intents=(prediction, intent_ms),
            )
            source = item.event.message
            event_time = message.event_time.timestamp()
            newest[source.partition] = max(newest.get(source.partition, event_time), event_time)
            if not applied:
                committed = app.consumer.committed_offset(source.tp)
                entries[conversation] = after_turn(
                    entries[conversation],
                    message.event_id,
                    source.offset,
                    before,
                    result.state,
                    committed,
                    event_time,
                    source.partition,
                )
            last_event[conversation] = item.event
            decisions.append(_decision(message, result, item.received))
        # a conversation whose messages were all replays writes its entry again, for a changelog that lost the
        # write when the worker died
        for conversation, event in last_event.items():
            route_table_access(event)
            states.set(conversation, entries[conversation])
        return decisions

    def _decision(message: ChatMessage, result: ChatResult, received: float) -> ChatDecision:
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
            features={
                "text_chars": len(message.text),
                "intent_set_by_context": float(result.label != result.text_label),
                **{f"{k}_ms": v for k, v in result.timings_ms.items()},
            },
            latency_ms=(time.perf_counter() - received) * 1000,
        )

    followed: Positions = {}
    trained = frozenset(pipeline.intent.labels)
    ledger = IntentLedger(sorted(trained))  # which broadcast events the model applies, and when intents were known

    def known(feedback: ChatFeedback, message: Message) -> bool:
        """Whether the followers learn ``feedback``: its intent was known when the broker wrote it (the model's
        intents now, where the producer dated it)."""
        at = appended_at(message.timestamp, message.timestamp_type)
        return feedback.intent in pipeline.intent.labels if at is None else ledger.known_at(feedback.intent, at)

    async def check_feedback(items: list[Item]) -> list[Skip | None]:
        """Dead-letters the feedback that no worker learns; each worker learns the rest itself (``learn``). The check
        waits until this worker's follower has met the feedback too, so that it knows the intents written before it
        (a starting worker's follower may still be reading the kept ones)."""
        for item in items:
            m = item.event.message
            await applied(followed, m.topic, m.partition, m.offset)
        return [
            None
            if known(item.record, item.event.message)
            else Skip(f"unknown intent {item.record.intent!r}: add it with 5 to 50 examples first (chat.intents)")
            for item in items
        ]

    def learn(feedback: ChatFeedback, appended: float | None) -> None:
        if ledger.learn(feedback, appended):
            pipeline.intent.learn_one(feedback.text, feedback.intent)

    def check_new_intent(new: NewIntent, received: float) -> None:
        """Dead-letters an intent that no worker will add; each worker adds the others itself (``add_new_intent``)."""
        if reason := new_name_refusal(new.intent, trained):
            raise Skip(reason)

    def check_removal(key: bytes | None, received: float) -> None:
        """Dead-letters a removal of a trained intent; each worker removes an added one itself (``remove_intent``)."""
        if reason := removal_refusal(key_text(key), trained):
            raise Skip(reason)

    def add_new_intent(new: NewIntent, appended: float | None) -> None:
        respelled = ledger.spelled(new.intent)
        if ledger.add(new, appended):
            if respelled not in (None, new.intent):
                pipeline.intent.remove_intent(respelled)
            pipeline.intent.add_intent(new.intent, new.examples)
            log.info("intent %s added from %d examples", new.intent, len(new.examples))

    def remove_intent(name: str, appended: float | None) -> None:
        if removed := ledger.remove(name, appended):
            pipeline.intent.remove_intent(removed)
            log.info("intent %s removed", removed)

    @app.agent(processor.raw_topic(CHAT_MESSAGES), name="chat-decide")
    async def decide_messages(stream: faust.StreamT) -> None:
        await processor.run_batched(stream, ChatMessage, decide_many)

    @app.agent(processor.raw_topic(CHAT_FEEDBACK), name="chat-learn")
    async def check_feedbacks(stream: faust.StreamT) -> None:
        await processor.run_batched(stream, ChatFeedback, check_feedback)

    @app.agent(processor.raw_topic(CHAT_INTENTS), name="chat-intents")
    async def check_new_intents(stream: faust.StreamT) -> None:
        await processor.run(stream, NewIntent, check_new_intent, remove=check_removal)

    @app.timer(interval=settings.chat_expiry_check_s)
    async def expire_idle_conversations() -> None:
        """Drop the conversations that no message can need any more (``models/chat/conversation.py``). The
        partition's newest message may be dated up to ``max_event_ahead_s`` ahead of the clock; a message of the
        conversation written now would be dated earlier, so only the idle time past that margin counts."""

        def stale(entry: Entry, committed: int) -> bool:
            newest_now = newest[entry["p"]] - settings.max_event_ahead_s if entry["p"] in newest else None
            return idle(entry, newest_now, committed, settings.chat_idle_s)

        await processor.expire_settled(states, CHAT_MESSAGES, stale)

    broadcast = {
        CHAT_INTENTS: decoding(NewIntent, settings, add_new_intent, remove_intent),
        CHAT_FEEDBACK: decoding(ChatFeedback, settings, learn),
    }
    snapshot_path = Path(app.conf.datadir) / "chat-learned.pt"
    last: Snapshot | None = None  # the snapshot saved or taken up last, once the topics' ids are known

    @app.task
    async def follow_intents_and_feedback() -> None:
        """Take up this worker's last snapshot, if any (``streams/learned_snapshot.py``), then follow on from it."""
        nonlocal last, ledger
        try:
            ids = await asyncio.to_thread(topic_ids, settings, list(broadcast))
            kept = await asyncio.to_thread(load_snapshot, snapshot_path, model.version, ids)
            if kept is not None:
                taken_up = IntentLedger.load(sorted(trained), kept.ledger)
                if any(new_name_refusal(name, trained) for name in taken_up.added):
                    # an earlier release added it (names were compared with case until stop 34); a worker replaying
                    # the topics refuses it now, so this one must too, or the replicas would differ
                    log.info(
                        "the snapshot %s holds an intent this release refuses; reading the topics whole", snapshot_path
                    )
                    kept = None
                else:
                    pipeline.intent.restore(kept.learned)  # checks the snapshot before it changes the model
                    ledger = taken_up
                    followed.update(kept.positions)
                    applied_before = sum(kept.positions.values())
                    log.info("took up the snapshot %s: %d events already applied", snapshot_path, applied_before)
            last = kept or Snapshot(model.version, ids, {}, {}, {})
        except Exception:
            log.exception("no snapshot taken up or saved in this run: the worker reads the topics whole")
        await follow_forever(settings, broadcast, followed)

    @app.timer(interval=settings.chat_snapshot_s)
    async def snapshot_learned() -> None:
        """Save what this worker learned since its last snapshot, with the positions it reached."""
        nonlocal last
        if last is None or followed == last.positions:
            return
        snapshot = Snapshot(model.version, last.topic_ids, dict(followed), pipeline.intent.learned(), ledger.dump())
        await asyncio.to_thread(save_snapshot, snapshot_path, snapshot)
        last = snapshot

    return pipeline
