"""Payments worker: score each transaction for fraud, learn from delayed labels.

Per-account state (behavioural aggregates, features of scored transactions awaiting their label)
lives in Faust tables keyed by account, on the partition that owns the account, and recovers from the
changelogs after a restart. Terminal aggregates are keyed by terminal, which the account-keyed stream
does not own; they are held in worker memory (rebuilt from traffic after a restart). A Faust
GlobalTable was tried and hung the agent under load (faust-streaming issue #283 reports GlobalTable
problems); a terminal-keyed repartition stage is the durable design still to build.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime

import faust
from faust.types import EventT

from streamsense.models.fraud.scorer import FraudScorer, new_account_state, new_terminal_state
from streamsense.schemas.base import ModelRef, Reason
from streamsense.schemas.payments import PaymentDecision, Transaction, TransactionLabel
from streamsense.streams.processing import BatchProcessor, Item, Skip
from streamsense.streams.topics import PAYMENTS_LABELS, PAYMENTS_TRANSACTIONS

MAX_AWAITING_LABEL = 256
"""Transactions kept per account while their label has not arrived; the oldest go first."""
MODEL_NAME = "fraud-xgboost-river-blend"


def missing_artifacts() -> None:
    """Payments start cold (online model only) and pick up a trained XGBoost artifact when one appears."""
    return None


def install(app: faust.App, processor: BatchProcessor) -> FraudScorer:
    """Declare the payments tables and agents on ``app``; returns the live scorer."""
    partitions = processor.settings.topic_partitions
    scorer = FraudScorer.from_artifacts(check_every_s=processor.settings.fraud_model_check_s)
    accounts = app.Table("payments-account-state", default=None, partitions=partitions)
    awaiting = app.Table("payments-awaiting-label", default=None, partitions=partitions)
    terminals: dict[str, dict] = {}

    def decide_many(items: list[Item], bind: Callable[[EventT], None]) -> list[PaymentDecision]:
        txs: list[Transaction] = [item.record for item in items]
        account_states = {tx.account_id: accounts.get(tx.account_id) or new_account_state() for tx in txs}
        terminal_states = {tx.terminal_id: terminals.get(tx.terminal_id) or new_terminal_state() for tx in txs}
        scores = scorer.score_many(
            txs, [account_states[tx.account_id] for tx in txs], [terminal_states[tx.terminal_id] for tx in txs]
        )
        pending = {account: dict(awaiting.get(account) or {}) for account in account_states}
        last_event = {}
        for item, tx, score in zip(items, txs, scores, strict=True):
            waiting = pending[tx.account_id]
            waiting[tx.event_id] = {"features": score.features, "terminal_id": tx.terminal_id}
            if len(waiting) > MAX_AWAITING_LABEL:
                waiting.pop(next(iter(waiting)))
            last_event[tx.account_id] = item.event
        for account, event in last_event.items():
            bind(event)  # changelog writes go to the partition that owns the account
            accounts[account] = account_states[account]
            awaiting[account] = pending[account]
        for terminal, state in terminal_states.items():
            terminals[terminal] = state
        decided_at = datetime.now(UTC)
        return [
            PaymentDecision(
                event_id=tx.event_id,
                event_time=tx.event_time,
                decided_at=decided_at,
                key=tx.account_id,
                model=ModelRef(name=MODEL_NAME, version=score.model_version),
                score=score.score,
                label="fraud" if score.is_fraud else "legit",
                threshold=score.threshold,
                reasons=[Reason(feature=f, value=v, contribution=c) for f, v, c in score.reasons],
                features={"amount": tx.amount, "terminal_id": tx.terminal_id, **score.features},
                latency_ms=(time.perf_counter() - item.received) * 1000,
            )
            for item, tx, score in zip(items, txs, scores, strict=True)
        ]

    def learn(label: TransactionLabel, received: float) -> None:
        waiting = dict(awaiting.get(label.account_id) or {})
        scored = waiting.pop(label.transaction_id, None)
        if scored is None:
            raise Skip(f"no scored transaction {label.transaction_id} awaits a label on account {label.account_id}")
        account_state = accounts.get(label.account_id) or new_account_state()
        terminal_state = terminals.get(scored["terminal_id"]) or new_terminal_state()
        scorer.update_label_state(label, account_state)
        scorer.update_label_state(label, terminal_state)
        scorer.learn_one(scored["features"], label.is_fraud)
        accounts[label.account_id] = account_state
        awaiting[label.account_id] = waiting
        terminals[scored["terminal_id"]] = terminal_state

    @app.agent(processor.input_topic(PAYMENTS_TRANSACTIONS), name="payments-score")
    async def score(stream: faust.StreamT) -> None:
        await processor.run_batched(stream, Transaction, decide_many)

    @app.agent(processor.input_topic(PAYMENTS_LABELS), name="payments-learn")
    async def learn_labels(stream: faust.StreamT) -> None:
        await processor.run(stream, TransactionLabel, learn)

    return scorer
