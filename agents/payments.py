"""Payments worker: score each transaction for fraud, learn from delayed labels.

Per-account state (running profile, features of recently scored transactions awaiting their label)
lives in Faust tables keyed by account, on the partition that owns the account, and recovers from
the tables' changelogs after a restart.
"""

import math
import time
from datetime import UTC, datetime

import faust

from streamsense.models.fraud_baseline import AccountProfile, OnlineFraudBaseline
from streamsense.schemas.base import ModelRef, Reason
from streamsense.schemas.payments import PaymentDecision, Transaction, TransactionLabel
from streamsense.streams.processing import BatchProcessor, Skip
from streamsense.streams.topics import PAYMENTS_LABELS, PAYMENTS_TRANSACTIONS

MAX_AWAITING_LABEL = 256
"""Features kept per account for transactions whose label has not arrived; the oldest go first."""


def _distance(tx: Transaction) -> float | None:
    coords = (tx.customer_x, tx.customer_y, tx.terminal_x, tx.terminal_y)
    if any(c is None for c in coords):
        return None
    return math.hypot(tx.customer_x - tx.terminal_x, tx.customer_y - tx.terminal_y)


def missing_artifacts() -> None:
    """Payments start cold: the online model learns from labels, so nothing needs training first."""
    return None


def install(app: faust.App, processor: BatchProcessor) -> OnlineFraudBaseline:
    """Declare the payments tables and agents on ``app``; returns the live model (for inspection)."""
    settings = processor.settings
    model = OnlineFraudBaseline()
    profiles = app.Table("payments-account-profiles", default=None, partitions=settings.topic_partitions)
    awaiting = app.Table("payments-awaiting-label", default=None, partitions=settings.topic_partitions)

    def decide(tx: Transaction, received: float) -> PaymentDecision:
        profile = AccountProfile.from_dict(profiles.get(tx.account_id))
        x = model.features(tx.amount, tx.event_time, profile, _distance(tx))
        score = model.predict_proba_one(x)
        reasons = [Reason(feature=f, value=v, contribution=c) for f, v, c in model.explain_one(x)]
        profile.update(tx.amount, tx.event_time)
        profiles[tx.account_id] = profile.to_dict()
        pending = dict(awaiting.get(tx.account_id) or {})
        pending[tx.event_id] = x
        if len(pending) > MAX_AWAITING_LABEL:
            pending.pop(next(iter(pending)))
        awaiting[tx.account_id] = pending
        threshold = settings.fraud_threshold
        return PaymentDecision(
            event_id=tx.event_id,
            event_time=tx.event_time,
            decided_at=datetime.now(UTC),
            key=tx.account_id,
            model=ModelRef(name=model.name, version=model.version),
            score=score,
            label="fraud" if score >= threshold else "legit",
            threshold=threshold,
            reasons=reasons,
            features={"amount": tx.amount, "terminal_id": tx.terminal_id, **x},
            latency_ms=(time.perf_counter() - received) * 1000,
        )

    def learn(label: TransactionLabel, received: float) -> None:
        pending = dict(awaiting.get(label.account_id) or {})
        x = pending.pop(label.transaction_id, None)
        if x is None:
            raise Skip(f"no scored transaction {label.transaction_id} awaits a label on account {label.account_id}")
        model.learn_one(x, label.is_fraud)
        awaiting[label.account_id] = pending

    @app.agent(processor.input_topic(PAYMENTS_TRANSACTIONS), name="payments-score")
    async def score(stream: faust.StreamT) -> None:
        await processor.run(stream, Transaction, decide)

    @app.agent(processor.input_topic(PAYMENTS_LABELS), name="payments-learn")
    async def learn_labels(stream: faust.StreamT) -> None:
        await processor.run(stream, TransactionLabel, learn)

    return model
