"""Payments worker: score each transaction for fraud, learn from delayed labels.

Behavioural aggregates live in Faust tables on the partition that owns their key, and recover from the changelogs
after a restart. Transactions arrive keyed by account, so the work runs in two stages:

1. ``payments-accounts`` (partitions of ``payments.transactions``, by account): summarises the account's state
   before the transaction (a few numbers, ``FraudFeaturePipeline.key_summary``), adds the transaction to it, and
   hands ``ScoringRequest`` to ``payments.scoring``, keyed by terminal.
2. ``payments-score`` (partitions of ``payments.scoring``, by terminal): adds the terminal's summary, scores with
   both models, adds the transaction to the terminal's state, and delivers the decision.

Labels take the same road: ``payments-labels`` (by account) folds the label into the account's state and hands it,
with the transaction's terminal, to ``payments-learn`` (by terminal), which folds it into the terminal's state and
teaches the online model with the features kept at scoring time. A label that comes before its transaction waits
for it in ``payments-early-labels`` (on the account's partition, which the transaction's shares) for
``fraud_early_label_wait_s``: the transaction takes it along to the terminal stage, which learns it once it has
scored; one whose transaction does not come in that time is dead-lettered (``no_transaction``). The two hand-overs
travel on two topics, so a label can also reach the terminal stage before its transaction's scoring request (the
scoring topic behind): it waits likewise in ``payments-early-terminal-labels`` (on the terminal's partition, which
the request's shares), the scoring takes it, and one whose transaction is not scored in time is dead-lettered
(``not_scored``).

Delivery is at-least-once, so after a crash a stage may see an event again. Each stage keeps what it did per event
id (the account summary; the decision) and repeats it instead of counting the event twice: a replayed transaction
yields the same decision. Those entries stay in the tables for ``fraud_recent_s`` and until their event's offset is
committed (after which no event can come again); what a later label needs is logged to Elasticsearch with the
decision (``streams/awaiting_labels.py``), where it expires after ``fraud_label_wait_days``. So the tables, and what
a new worker replays, grow with the rate times that short window, not times the label delay.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faust
from faust.types import TP, Message

from streamsense.models.fraud.scorer import FraudScore, FraudScorer, new_account_state, new_terminal_state
from streamsense.schemas.base import ModelRef, Reason
from streamsense.schemas.payments import (
    PaymentDecision,
    ScoringRequest,
    TerminalLabel,
    Transaction,
    TransactionLabel,
)
from streamsense.streams.awaiting_labels import AwaitingLabels, awaiting_action
from streamsense.streams.dead_letters import dead_letter
from streamsense.streams.drift_labels import label_action
from streamsense.streams.labelled_rows import LabelledRows
from streamsense.streams.live_state import load_live_state, save_live_state
from streamsense.streams.packed_table import PackedTable
from streamsense.streams.processing import (
    BatchProcessor,
    Decided,
    Forward,
    Item,
    Outcome,
    Record,
    Skip,
    owned_committed_offsets,
    route_table_access,
)
from streamsense.streams.topics import (
    PAYMENTS_LABELS,
    PAYMENTS_SCORING,
    PAYMENTS_TERMINAL_LABELS,
    PAYMENTS_TRANSACTIONS,
    dlq_topic,
    label_index,
)

log = logging.getLogger(__name__)
MODEL_NAME = "fraud-xgboost-river-blend"
LABELLED_KEPT_S = 86_400.0
"""How long a labelled transaction's marker of an earlier release stays (they carry no offsets)."""


def missing_artifacts() -> None:
    """Payments start cold (online model only) and pick up a trained XGBoost artifact when one appears."""
    return None


async def _decide_labels(
    table: PackedTable,
    awaiting: AwaitingLabels,
    items: list[Item],
    transaction_of: Callable[[Any], str],
    decide: Callable[[Item, dict | None], Outcome],
) -> list[Outcome]:
    """``decide`` each label of the batch with its transaction's entry: from the table while recent, else from
    Elasticsearch (where a label already learned shows as ``labelled``; its offset there is of no use here, and was
    committed long ago). A label decided earlier in the batch is seen by a later one for the same transaction, and the
    table is read again after Elasticsearch answers: the transaction may have come meanwhile (an early label was put
    aside to wait for a transaction that had just come)."""
    ids = [transaction_of(item.record) for item in items]
    entries: dict[str, dict] = {}
    for item, transaction_id in zip(items, ids, strict=True):
        route_table_access(item.event)
        if (entry := table.get(transaction_id)) is not None:
            entries[transaction_id] = entry
    for transaction_id, entry in (await awaiting.fetch([i for i in ids if i not in entries])).items():
        entries[transaction_id] = {**entry, "terminal": entry["transaction"]["terminal_id"], "o": -1}
    outcomes: list[Outcome] = []
    for item, transaction_id in zip(items, ids, strict=True):
        route_table_access(item.event)
        outcomes.append(decide(item, table.get(transaction_id) or entries.get(transaction_id)))
    return outcomes


def _scored_entry(tx: Transaction, score: FraudScore, message: Message) -> dict:
    return {
        "account": tx.account_id,
        "id": _identity(tx),
        "features": score.features,
        "score": score.score,
        "threshold": score.threshold,
        "is_fraud": score.is_fraud,
        "reasons": [list(reason) for reason in score.reasons],
        "version": score.model_version,
        "online_logit": score.online_logit,
        "ts": tx.event_time.timestamp(),
        "transaction": tx.model_dump(mode="json"),
        "labelled": False,
        "at": time.time(),
        "p": message.partition,
        "o": message.offset,
    }


def _identity(tx: Transaction) -> list:
    """What tells a transaction delivered again from another one given the same id."""
    return [tx.account_id, tx.terminal_id, tx.amount, tx.currency, tx.event_time.timestamp()]


def _reused(tx: Transaction, entry: dict) -> Skip | None:
    """The refusal of a transaction whose id an earlier, different one holds (a decision is found, logged and
    labelled by its id, so this one would get the other's), or None for the same one again. Entries of earlier
    releases keep no identity and are taken as the same."""
    held = entry.get("id")
    if held is None or held == _identity(tx):
        return None
    return Skip(
        f"event_id {tx.event_id} is another transaction's (account {held[0]}, terminal {held[1]}, amount {held[2]}"
        f" {held[3]}): each transaction needs an id of its own",
        kind="reused_event_id",
    )


def _early_key(account_id: str, transaction_id: str) -> str:
    """A waiting label's key: by account too, so that a label naming another account cannot stand in for the right
    one (ids hold no spaces)."""
    return f"{account_id} {transaction_id}"


def _outcome(is_fraud: bool) -> str:
    return "fraud" if is_fraud else "genuine"


def _contradicting(transaction_id: str, learned: bool, label: bool) -> Skip:
    return Skip(
        f"transaction {transaction_id} was labelled {_outcome(learned)} already; a label is learned once, so this"
        f" {_outcome(label)} label is not",
        kind="contradicting_label",
    )


@dataclass(frozen=True)
class LabelWait:
    """Where labels wait at one stage for their transaction's entry there, for ``fraud_early_label_wait_s``:
    ``labels`` holds them under ``_early_key``, on the partition of ``topic``, the topic they came by (their offsets,
    their dead letters); ``entries`` is the stage's table of transactions, whose entry turns labelled when its
    transaction takes the label along. ``missing`` words the dead letter of one that waited in vain (``kind``), from
    the waiting entry and the wait in seconds."""

    labels: PackedTable
    topic: str
    entries: PackedTable
    kind: str
    missing: Callable[[dict, float], str]


def _no_transaction(parked: dict, wait_s: float) -> str:
    label = parked["label"]
    return (
        f"no transaction {label['transaction_id']} of account {label['account_id']} came within {wait_s:,.0f} s of its"
        " label (STREAMSENSE_FRAUD_EARLY_LABEL_WAIT_S)"
    )


def _not_scored(parked: dict, wait_s: float) -> str:
    label = parked["label"]
    return (
        f"transaction {label['transaction_id']} of account {label['account_id']} was not scored on terminal"
        f" {parked['key']} within {wait_s:,.0f} s of its label reaching the terminal stage"
        " (STREAMSENSE_FRAUD_EARLY_LABEL_WAIT_S): its scoring request was refused or never came"
    )


def _settle(parked: dict, entry: dict) -> str:
    """What the terminal stage does with a label that waited for its transaction's scoring, given the scored
    ``entry``: ``learn`` it; ``drop`` it where the entry is labelled the same (taken before a crash, or a repeat of
    the label the transaction took along); ``keep`` it where labelled otherwise, for the expiry to dead-letter as
    contradicting (the account stage lets no contradicting label through, so only a marker that left its table
    could)."""
    if not entry["labelled"]:
        return "learn"
    return "drop" if entry.get("fraud", parked["label"]["is_fraud"]) == parked["label"]["is_fraud"] else "keep"


def _overdue(parked: dict, entry: dict | None, wait: LabelWait, wait_s: float) -> Skip | None:
    """The dead letter of a label that waited ``wait_s`` at ``wait``'s stage, given its transaction's entry (the
    stage's table, else Elasticsearch, whose ``labelled`` says whether the labelled decision is logged): None where
    its transaction took it along and learned it (a crash after the entry that took it kept its removal from the
    changelog), contradicting where the transaction learned another outcome, ``missed_transaction`` where the
    transaction was decided without it (it passed the stage before the label came, and left the table before its
    decision was logged: the scoring topic far behind)."""
    label = parked["label"]
    transaction_id = label["transaction_id"]
    if entry is None:
        return Skip(wait.missing(parked, wait_s), kind=wait.kind)
    if not entry["labelled"]:
        return Skip(
            f"transaction {transaction_id} was decided without this label, which waited {wait_s:,.0f} s"
            " (STREAMSENSE_FRAUD_EARLY_LABEL_WAIT_S) but came after the transaction had passed; sent again, it is"
            " learned",
            kind="missed_transaction",
        )
    learned = entry.get("fraud", label["is_fraud"])
    return None if learned == label["is_fraud"] else _contradicting(transaction_id, learned, label["is_fraud"])


def park(wait: LabelWait, item: Item, label: TransactionLabel, key: str) -> Outcome:
    """Keep a label whose transaction has not reached ``wait``'s stage (yet) until it does, or
    ``fraud_early_label_wait_s`` passes; a repeat of it waits no longer, a contradicting one is dead-lettered. ``key``
    is what the stage's partition is by (account, terminal): the key of its dead letter."""
    waiting = _early_key(label.account_id, label.transaction_id)
    parked = wait.labels.get(waiting)
    if parked is not None:
        if parked["label"]["is_fraud"] == label.is_fraud:
            # written again, as a replayed transaction's entry is: the label may be this one delivered again after a
            # crash that kept the first write from the changelog, which must hold it for whoever owns the key next
            wait.labels.set(waiting, parked)
            return None
        return Skip(
            f"transaction {label.transaction_id} has a {_outcome(parked['label']['is_fraud'])} label waiting for"
            f" it already; a label is learned once, so this {_outcome(label.is_fraud)} label is not",
            kind="contradicting_label",
        )
    message = item.event.message
    wait.labels.set(
        waiting,
        {
            "label": label.model_dump(mode="json"),
            "key": key,
            "value": bytes(item.event.value).decode(),
            "at": time.time(),
            "p": message.partition,
            "o": message.offset,
            "ts": message.timestamp,
        },
    )
    return None


def _labelled(entry: dict, received: float, labelled_at: datetime) -> Record:
    """The decision with its true outcome (``entry["fraud"]``), for performance drift and the fairness report."""
    tx = Transaction.model_validate(entry["transaction"], extra="ignore")
    audit = {k: v for k, v in (("age_band", tx.age_band), ("gender", tx.gender)) if v is not None}
    actual = "fraud" if entry["fraud"] else "legit"
    return Record(label_action(_decision(tx, entry, received), actual, labelled_at, entry["fraud"], audit))


def _decision(tx: Transaction, entry: dict, received: float) -> PaymentDecision:
    return PaymentDecision(
        event_id=tx.event_id,
        event_time=tx.event_time,
        decided_at=datetime.now(UTC),
        key=tx.account_id,
        model=ModelRef(name=MODEL_NAME, version=entry["version"]),
        score=entry["score"],
        label="fraud" if entry["is_fraud"] else "legit",
        threshold=entry["threshold"],
        reasons=[Reason(feature=f, value=v, contribution=c) for f, v, c in entry["reasons"]],
        features={"terminal_id": tx.terminal_id, "currency": tx.currency, **entry["features"]},
        latency_ms=(time.perf_counter() - received) * 1000,
    )


async def stale_entries(
    table: PackedTable,
    committed: dict[int, int | None],
    labels_committed: dict[int, int | None],
    now: float,
    recent_s: float,
    wait_s: float,
) -> AsyncIterator[tuple[str, dict]]:
    """The entries, on partitions this worker owns, that no event can need again: older than ``recent_s``, with the
    transaction's offset ``o`` committed (``committed``: partition to the next offset to consume) and, for a
    labelled one, the label's offset ``lo`` too (``labels_committed``). An entry of an earlier release carries no
    offsets and was never logged for its label: it waits in the table as it did then (``wait_s`` for its label, a
    day once labelled). A label that waited for its transaction has no offset of its own to wait for."""

    def done(offset: int, committed_offset: int | None) -> bool:
        return committed_offset is not None and offset < committed_offset

    async for key, entry in table.scan():
        p = entry["p"]
        if p not in committed:
            continue
        if "o" not in entry:
            expired = entry["at"] + (LABELLED_KEPT_S if entry["labelled"] else wait_s) < now
        else:
            expired = entry["at"] + recent_s < now and done(entry["o"], committed[p])
            if entry["labelled"] and entry.get("lo") is not None:  # None: a label its transaction took along
                expired = expired and done(entry["lo"], labels_committed.get(p))
        if expired:
            yield key, entry


def scoring_share(assigned: set[TP], partitions: int) -> float | None:
    """The share of ``payments.scoring``'s partitions in a worker's assignment, or None when it owns none (it then
    scores nothing): the global feature counts scale what the worker sees by it. Standbys are changelog
    partitions only, so the scoring topic's partitions in an assignment are the ones the worker consumes."""
    owned = sum(tp.topic == PAYMENTS_SCORING for tp in assigned)
    return owned / partitions if owned else None


def labelled_rows_path(app: faust.App) -> Path:
    """The newer of the worker's two files of labelled rows for retraining (the older one lies beside it), in its
    own data dir: two workers on one host once shared one file, and one crashed at start when both compacted it at
    once (a two-worker benchmark)."""
    return Path(app.conf.datadir) / "fraud-labelled.jsonl"


def install(app: faust.App, processor: BatchProcessor) -> FraudScorer:
    """Declare the payments tables and agents on ``app``; returns the live scorer."""
    settings = processor.settings
    awaiting = AwaitingLabels(processor.log, label_index(processor.spec.name))
    partitions = settings.topic_partitions
    live_path = Path(app.conf.datadir) / "fraud-live.pkl"
    scorer = FraudScorer.from_artifacts(check_every_s=settings.fraud_model_check_s, live=load_live_state(live_path))
    accounts = app.Table("payments-account-state", default=None, partitions=partitions)
    summarised = PackedTable(app, "payments-account-pending", partitions)
    terminals = app.Table("payments-terminal-state", default=None, partitions=partitions)
    scored = PackedTable(app, "payments-scored", partitions)
    early = PackedTable(app, "payments-early-labels", partitions)
    unscored = PackedTable(app, "payments-early-terminal-labels", partitions)
    labelled = LabelledRows(labelled_rows_path(app), settings.fraud_retrain_rows)
    waits = (
        LabelWait(early, PAYMENTS_LABELS, summarised, "no_transaction", _no_transaction),
        LabelWait(unscored, PAYMENTS_TERMINAL_LABELS, scored, "not_scored", _not_scored),
    )
    early_wait, unscored_wait = waits

    def summarise_many(items: list[Item]) -> list[Outcome]:
        states: dict[str, dict] = {}
        last_event = {}
        outcomes: list[Outcome] = []
        for item in items:
            tx: Transaction = item.record
            if (reason := scorer.unusable(tx)) is not None:
                outcomes.append(Skip(reason))
                continue
            route_table_access(item.event)
            entry = summarised.get(tx.event_id)
            if entry is not None and (refused := _reused(tx, entry)) is not None:
                outcomes.append(refused)
                continue
            if entry is not None and entry["labelled"] and not entry["summary"]:
                outcomes.append(None)  # decided long ago and labelled since: nothing left to do
                continue
            if tx.account_id not in states:
                states[tx.account_id] = accounts.get(tx.account_id) or new_account_state()
            if entry is None:
                summary = scorer.summarize_accounts([tx], [states[tx.account_id]])[0]
                entry = {
                    "account": tx.account_id,
                    "terminal": tx.terminal_id,
                    "id": _identity(tx),
                    "summary": summary,
                    "labelled": False,
                    "at": time.time(),
                    "p": item.event.message.partition,
                    "o": item.event.message.offset,
                }
                if (parked := early.get(_early_key(tx.account_id, tx.event_id))) is not None:
                    label = TransactionLabel.model_validate(parked["label"], extra="ignore")
                    scorer.update_label_state(label, states[tx.account_id])
                    # the marker keeps the label: a replay of the transaction takes it along again
                    entry |= {"labelled": True, "fraud": label.is_fraud, "early": parked["label"], "lo": None}
            # a replay writes what it finds again: a worker killed before its changelog writes were sent keeps
            # them in its local tables only, and the changelog must hold them for whoever owns the key next
            summarised.set(tx.event_id, entry)
            if "early" in entry:  # after the marker that holds it: a crash between the two loses no label
                early.delete(_early_key(tx.account_id, tx.event_id))
            last_event[tx.account_id] = item.event
            early_label = TransactionLabel.model_validate(entry["early"], extra="ignore") if "early" in entry else None
            request = ScoringRequest(transaction=tx, account_summary=entry["summary"], label=early_label)
            outcomes.append(Forward(tx.terminal_id, request))
        for account, event in last_event.items():
            route_table_access(event)
            accounts[account] = states[account]
        return outcomes

    def score_many(items: list[Item]) -> list[Outcome]:
        requests: list[ScoringRequest] = [item.record for item in items]
        entries: dict[str, dict | None] = {}
        fresh: dict[str, int] = {}
        states: dict[str, dict] = {}
        for i, (item, request) in enumerate(zip(items, requests, strict=True)):
            tx = request.transaction
            if tx.event_id in entries:
                continue
            route_table_access(item.event)
            entries[tx.event_id] = scored.get(tx.event_id)
            if entries[tx.event_id] is None:
                fresh[tx.event_id] = i
            if tx.terminal_id not in states:
                states[tx.terminal_id] = terminals.get(tx.terminal_id) or new_terminal_state()
        txs = [requests[i].transaction for i in fresh.values()]
        scores = scorer.score_summarized(
            txs, [requests[i].account_summary for i in fresh.values()], [states[tx.terminal_id] for tx in txs]
        )
        for i, score in zip(fresh.values(), scores, strict=True):
            entries[requests[i].transaction.event_id] = _scored_entry(
                requests[i].transaction, score, items[i].event.message
            )
        last_event = {}
        outcomes: list[Outcome] = []
        for i, (item, request) in enumerate(zip(items, requests, strict=True)):
            tx = request.transaction
            entry = entries[tx.event_id]
            # an entry scored from this very item holds its identity: only one found, or another item's, is checked
            if fresh.get(tx.event_id) != i and (refused := _reused(tx, entry)) is not None:
                outcomes.append(refused)
                continue
            if "score" not in entry:
                outcomes.append(None)  # decided long ago and labelled since: nothing left to do
                continue
            route_table_access(item.event)
            # logged again on a replay too: a crash may have come before the first bulk request
            records = [Record(awaiting_action(tx.event_id, entry))]
            if request.label is not None and not entry["labelled"]:
                entry = entries[tx.event_id] = learned(request.label, entry, states[tx.terminal_id], None)
            waiting = _early_key(tx.account_id, tx.event_id)
            parked = unscored.get(waiting)
            settled = None if parked is None else _settle(parked, entry)
            if settled == "learn":
                label = TransactionLabel.model_validate(parked["label"], extra="ignore")
                marker = learned(label, entry, states[tx.terminal_id], None)
                entry = entries[tx.event_id] = {**marker, "waited": True}  # a replay removes the label again
            if entry["labelled"] and "labelled_at" in entry:
                records.append(_labelled(entry, item.received, datetime.fromisoformat(entry["labelled_at"])))
            scored.set(tx.event_id, entry)  # written again on a replay, as in ``summarise_many``
            if settled in ("learn", "drop") or (settled is None and entry.get("waited")):
                unscored.delete(waiting)  # after the marker, as in ``summarise_many``
            last_event[tx.terminal_id] = item.event
            outcomes.append(Decided(_decision(tx, entry, item.received), tuple(records)))
        for terminal, event in last_event.items():
            route_table_access(event)
            terminals[terminal] = states[terminal]
        return outcomes

    def learned(label: TransactionLabel, entry: dict, state: dict, offset: int | None) -> dict:
        """Learn ``label`` at the terminal stage from its transaction's scored ``entry`` (the terminal's ``state``, the
        online model, the retraining rows); returns the marker that stands for the entry from then on, ``offset``
        being the label's on its topic (None for one the transaction took along)."""
        scorer.update_label_state(label, state)
        scorer.learn_one(entry["features"], label.is_fraud)
        labelled.add(
            {
                "features": entry["features"],
                "is_fraud": label.is_fraud,
                "event_time": entry["ts"],
                "online_logit": entry["online_logit"],
            }
        )
        # An entry read from the table keeps its decision, which a replay of the transaction makes again; one read
        # back from Elasticsearch was decided and logged long ago, and its marker needs no more.
        kept = {**entry, "labelled_at": label.event_time.isoformat()} if entry.get("o", -1) != -1 else {}
        return {
            **kept,
            "labelled": True,
            "fraud": label.is_fraud,
            "id": entry.get("id"),
            "at": time.time(),
            "p": entry.get("p"),
            "o": entry.get("o", -1),
            "lo": offset,
        }

    def route_label(item: Item, entry: dict | None) -> Outcome:
        label: TransactionLabel = item.record
        if entry is None:
            return park(early_wait, item, label, label.account_id)
        if entry["account"] != label.account_id:
            return Skip(f"transaction {label.transaction_id} belongs to another account than {label.account_id}")
        if entry["labelled"] and entry.get("fraud", label.is_fraud) != label.is_fraud:
            return _contradicting(label.transaction_id, entry["fraud"], label.is_fraud)
        if not entry["labelled"]:
            state = accounts.get(label.account_id) or new_account_state()
            scorer.update_label_state(label, state)
            accounts[label.account_id] = state
            marker = {
                "account": entry["account"],
                "terminal": entry["terminal"],
                # kept while the entry is: the transaction may come again (a crash before its decision was logged,
                # while Elasticsearch was down, say), and its decision must be made again, not dropped as labelled
                "summary": entry.get("summary", []),
                "labelled": True,
                "fraud": label.is_fraud,
                "id": entry.get("id"),
                "at": time.time(),
                "p": item.event.message.partition,
                "o": entry.get("o", -1),
                "lo": item.event.message.offset,
            }
            summarised.set(label.transaction_id, marker)
        return Forward(entry["terminal"], TerminalLabel(label=label, terminal_id=entry["terminal"]))

    def learn(item: Item, entry: dict | None) -> Outcome:
        handed: TerminalLabel = item.record
        label = handed.label
        if entry is None:  # the scoring request is behind: the label waits for it
            return park(unscored_wait, item, label, handed.terminal_id)
        if entry["labelled"]:
            # a label learned already: where the table still holds its decision (the label came again after a crash,
            # which may have come before the labelled decision was logged), that is logged again, else nothing
            labelled_at = entry.get("labelled_at")
            return None if labelled_at is None else _labelled(entry, item.received, datetime.fromisoformat(labelled_at))
        state = terminals.get(handed.terminal_id) or new_terminal_state()
        marker = learned(label, entry, state, item.event.message.offset)
        terminals[handed.terminal_id] = state
        scored.set(label.transaction_id, {**marker, "p": item.event.message.partition})
        return _labelled({**entry, "fraud": label.is_fraud}, item.received, label.event_time)

    async def route_labels_many(items: list[Item]) -> list[Outcome]:
        return await _decide_labels(summarised, awaiting, items, lambda label: label.transaction_id, route_label)

    async def learn_many(items: list[Item]) -> list[Outcome]:
        return await _decide_labels(scored, awaiting, items, lambda handed: handed.label.transaction_id, learn)

    @app.on_partitions_assigned.connect
    async def take_share(sender: faust.App, assigned: set[TP], **kwargs: Any) -> None:
        """On each assignment (the whole new one): the global counts stand for all the traffic
        (``FraudFeaturePipeline.share``)."""
        if (share := scoring_share(assigned, partitions)) is not None:
            scorer.pipeline.share = share

    @app.agent(processor.raw_topic(PAYMENTS_TRANSACTIONS), name="payments-accounts")
    async def summarise_transactions(stream: faust.StreamT) -> None:
        await processor.run_batched(stream, Transaction, summarise_many, forward_to=PAYMENTS_SCORING)

    @app.agent(processor.raw_topic(PAYMENTS_SCORING), name="payments-score")
    async def score_transactions(stream: faust.StreamT) -> None:
        await processor.run_batched(stream, ScoringRequest, score_many)

    @app.agent(processor.raw_topic(PAYMENTS_LABELS), name="payments-labels")
    async def route_labels(stream: faust.StreamT) -> None:
        await processor.run_batched(stream, TransactionLabel, route_labels_many, forward_to=PAYMENTS_TERMINAL_LABELS)

    @app.agent(processor.raw_topic(PAYMENTS_TERMINAL_LABELS), name="payments-learn")
    async def learn_labels(stream: faust.StreamT) -> None:
        await processor.run_batched(stream, TerminalLabel, learn_many)

    async def expire_early_labels(wait: LabelWait, now: float) -> None:
        """Dead-letter the labels that waited longer than ``fraud_early_label_wait_s`` at ``wait``'s stage, on the
        partitions this worker owns, then drop them (a crash between the two dead-letters them again). One whose
        transaction took it along while a crash kept its removal from the changelog is no dead letter: its
        transaction's entry, in the stage's table or else in Elasticsearch (long after the table let it go), shows
        it learned."""
        owned = owned_committed_offsets(app, wait.topic)
        wait_s = settings.fraud_early_label_wait_s
        waited = [(k, e) async for k, e in wait.labels.scan() if e["p"] in owned and e["at"] + wait_s < now]
        if not waited:
            return
        ids = [e["label"]["transaction_id"] for _, e in waited]
        entries = {i: entry for i in ids if (entry := wait.entries.get(i)) is not None}
        try:  # bounded: the timer's other expiry must not wait out an Elasticsearch outage behind it
            entries |= await asyncio.wait_for(
                awaiting.fetch([i for i in ids if i not in entries]), settings.fraud_expiry_check_s
            )
        except TimeoutError:
            log.warning("elasticsearch did not answer; %d overdue labels wait for the next expiry check", len(ids))
            return
        letters = [
            dead_letter(
                wait.topic,
                e["p"],
                e["o"],
                e["ts"],
                e.get("key", e["label"]["account_id"]).encode(),  # an earlier release kept no key: the account's
                e["value"].encode(),
                letter.kind,
                str(letter),
            )
            for _, e in waited
            if (letter := _overdue(e, entries.get(e["label"]["transaction_id"]), wait, wait_s)) is not None
        ]
        if letters:
            await (await processor.send([], letters))
            processor.metrics.dead_letters.labels(dlq_topic(wait.topic)).inc(len(letters))

        async def keys() -> AsyncIterator[tuple[str, int]]:
            for key, e in waited:
                yield key, e["p"]

        processor.metrics.expired.labels(wait.labels.table.name).inc(await wait.labels.expire(keys()))

    @app.timer(interval=settings.fraud_expiry_check_s)
    async def expire_waiting() -> None:
        actives = app.assignor.assigned_actives()
        now = time.time()
        wait_s = settings.fraud_label_wait_days * 86_400
        stages = (
            (summarised, PAYMENTS_TRANSACTIONS, PAYMENTS_LABELS),
            (scored, PAYMENTS_SCORING, PAYMENTS_TERMINAL_LABELS),
        )
        for table, topic, labels_topic in stages:
            committed = owned_committed_offsets(app, topic)
            labels = owned_committed_offsets(app, labels_topic)
            stale = stale_entries(table, committed, labels, now, settings.fraud_recent_s, wait_s)
            expired = await table.expire((key, entry["p"]) async for key, entry in stale)
            processor.metrics.expired.labels(table.table.name).inc(expired)
        for wait in waits:
            await expire_early_labels(wait, now)
        if TP(PAYMENTS_TRANSACTIONS, 0) in actives:  # one worker expires what waits in Elasticsearch
            try:
                await awaiting.expire(now - wait_s)
            except Exception:  # a refused pass (an overloaded or blocked node) waits for the next tick, as retention
                log.exception(
                    "expiring the transactions awaiting labels in elasticsearch failed; next try in %.0fs",
                    settings.fraud_expiry_check_s,
                )

    @app.timer(interval=settings.fraud_snapshot_s)
    async def save_live() -> None:
        """Keep the online model and global feature state for a restart (``streams/live_state.py``)."""
        await asyncio.to_thread(save_live_state, live_path, scorer.checkpoints())

    if settings.fraud_retrain_every_s > 0:

        @app.timer(interval=settings.fraud_retrain_every_s)
        async def retrain_from_labels() -> None:
            if labelled.added_since_use < settings.fraud_retrain_min_labels:
                return
            kept, rows = len(labelled), labelled.take()
            least = settings.fraud_retrain_min_frauds
            artifact = await asyncio.to_thread(scorer.retrain, rows, least, scorer.checkpoints())
            if artifact is None:
                log.info(
                    "retraining skipped: fewer than %d frauds in its training or validation part of %d labelled rows",
                    least,
                    kept,
                )
            else:
                log.info("retrained on %d labelled rows: %s is current", kept, artifact.version_name)

    return scorer
