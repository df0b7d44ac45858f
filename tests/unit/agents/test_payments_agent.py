"""Where the payments worker keeps what it needs across restarts."""

import asyncio
import contextvars
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import patch

import faust
import orjson
from faust.types import TP

from streamsense.agents.payments import (
    LabelWait,
    _decide_labels,
    _labelled,
    _no_transaction,
    _not_scored,
    _overdue,
    _settle,
    labelled_rows_path,
    park,
    scoring_share,
    stale_entries,
)
from streamsense.schemas.payments import TerminalLabel, TransactionLabel
from streamsense.settings import Settings
from streamsense.streams.app import create_app
from streamsense.streams.packed_table import PackedTable
from streamsense.streams.processing import route_table_access
from streamsense.streams.topics import (
    PAYMENTS_LABELS,
    PAYMENTS_SCORING,
    PAYMENTS_TERMINAL_LABELS,
    PAYMENTS_TRANSACTIONS,
    STREAMS,
)


def test_each_worker_on_a_host_keeps_its_labelled_rows_in_a_file_of_its_own(tmp_path: Path) -> None:
    async def path(web_port: int | None = None, name: str = "") -> Path:
        settings = Settings(state_dir=tmp_path, worker_name=name)
        return labelled_rows_path(create_app(STREAMS["payments"], settings, web_port))

    first, second, named = (asyncio.run(path(7001)), asyncio.run(path(7002)), asyncio.run(path(name="w1")))

    assert len({first, second, named}) == 3
    assert asyncio.run(path(name="w1")) == named  # a worker restarted under its name finds its rows again


WAIT_S = 35 * 86_400.0


class ScannedTable:
    """Stands in for a ``PackedTable`` in ``stale_entries``, which only scans."""

    def __init__(self, entries: dict[str, dict]) -> None:
        self.entries = entries

    async def scan(self):
        for key, entry in self.entries.items():
            yield key, entry


def stale_keys(
    entries: dict[str, dict], committed: dict[int, int | None], labels: dict[int, int | None], now: float
) -> set[str]:
    async def collect() -> set[str]:
        table = ScannedTable(entries)
        return {key async for key, _ in stale_entries(table, committed, labels, now, 300.0, WAIT_S)}

    return asyncio.run(collect())


def test_a_scored_entry_leaves_the_table_only_once_it_is_old_and_its_offset_committed() -> None:
    entries = {
        "old-committed": {"p": 0, "o": 9, "at": 0.0, "labelled": False},
        "old-uncommitted": {"p": 0, "o": 10, "at": 0.0, "labelled": False},
        "recent-committed": {"p": 0, "o": 3, "at": 950.0, "labelled": False},
        "other-worker": {"p": 1, "o": 0, "at": 0.0, "labelled": False},
        "before-any-commit": {"p": 2, "o": 0, "at": 0.0, "labelled": False},
    }
    committed = {0: 10, 2: None}  # the next offsets to consume of the partitions this worker owns

    assert stale_keys(entries, committed, {}, now=1_000.0) == {"old-committed"}


def test_a_labelled_marker_stays_until_both_the_transaction_and_the_label_are_committed() -> None:
    """Then neither can come again; a label sent twice later is recognised in Elasticsearch (``AwaitingLabels``)."""
    entries = {
        "both-committed": {"p": 0, "o": 9, "lo": 4, "at": 0.0, "labelled": True},
        "label-uncommitted": {"p": 0, "o": 9, "lo": 5, "at": 0.0, "labelled": True},
        "read-from-elasticsearch": {"p": 0, "o": -1, "lo": 4, "at": 0.0, "labelled": True},
        "recent": {"p": 0, "o": 9, "lo": 4, "at": 900.0, "labelled": True},
    }

    assert stale_keys(entries, {0: 10}, {0: 5}, now=1_000.0) == {"both-committed", "read-from-elasticsearch"}


def test_an_entry_labelled_by_a_label_its_transaction_took_along_waits_for_the_transaction_alone() -> None:
    """The label came before the transaction and was committed when it was put aside (``payments-early-labels``): it
    has no offset to wait for, on a labels partition that may never see a commit."""
    entries = {
        "committed": {"p": 0, "o": 9, "lo": None, "at": 0.0, "labelled": True},
        "uncommitted": {"p": 0, "o": 10, "lo": None, "at": 0.0, "labelled": True},
    }

    assert stale_keys(entries, {0: 10}, {}, now=1_000.0) == {"committed"}


def test_an_entry_of_an_earlier_release_waits_in_the_table_as_long_as_it_did_then() -> None:
    """Earlier releases kept no offsets in the entry and logged nothing for the label to read back."""
    entries = {
        "a-week-old": {"p": 0, "at": 0.0, "labelled": False},
        "older-than-the-wait": {"p": 0, "at": -WAIT_S, "labelled": False},
        "labelled-an-hour-ago": {"p": 0, "at": 7 * 86_400.0 - 3_600, "labelled": True},
        "labelled-two-days-ago": {"p": 0, "at": 5 * 86_400.0, "labelled": True},
    }

    assert stale_keys(entries, {0: 10}, {0: 10}, now=7 * 86_400.0) == {"older-than-the-wait", "labelled-two-days-ago"}


def test_a_worker_takes_as_its_share_the_scoring_partitions_of_its_assignment_and_none_without_them() -> None:
    assigned = {
        TP(PAYMENTS_SCORING, 0),
        TP(PAYMENTS_SCORING, 7),
        TP(PAYMENTS_TRANSACTIONS, 1),
        TP("streamsense-payments-payments-terminal-state-changelog", 3),
    }
    assert scoring_share(assigned, 12) == 2 / 12
    assert scoring_share({TP(PAYMENTS_TRANSACTIONS, 0)}, 12) is None


class Entries:
    """Stands in for a ``PackedTable`` in ``_decide_labels``, which only reads."""

    def __init__(self) -> None:
        self.entries: dict[str, dict] = {}

    def get(self, key: str) -> dict | None:
        return self.entries.get(key)


def test_a_label_whose_transaction_comes_while_the_batch_waits_for_elasticsearch_is_decided_with_it() -> None:
    """The label stage read its table, then waited for Elasticsearch while the transaction stage took the transaction:
    the label was put aside to wait for a transaction that had come, and dead-lettered a day later (stop 38 audit)."""
    table = Entries()
    entry = {"account": "acct-1", "terminal": "term-1", "labelled": False, "p": 0, "o": 5}

    class Awaiting:
        async def fetch(self, transaction_ids: list[str]) -> dict[str, dict]:
            table.entries["tx-1"] = entry  # the transaction stage ran meanwhile
            return {}

    seen: list[dict | None] = []
    item = SimpleNamespace(event=SimpleNamespace(), record=SimpleNamespace(transaction_id="tx-1"), received=0.0)
    with patch("streamsense.agents.payments.route_table_access"):
        asyncio.run(
            _decide_labels(table, Awaiting(), [item], lambda label: label.transaction_id, lambda i, e: seen.append(e))
        )

    assert seen == [entry]


class Waiting(Entries):
    """Stands in for a ``PackedTable`` of waiting labels in ``park``, which reads and writes inside an event."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def set(self, key: str, entry: dict) -> None:
        self.entries[key] = entry
        self.writes += 1


def terminal_wait(labels: Entries) -> LabelWait:
    return LabelWait(labels, PAYMENTS_TERMINAL_LABELS, Entries(), "not_scored", _not_scored)


def handed(n: int, is_fraud: bool, offset: int) -> SimpleNamespace:
    """A label as the terminal stage gets it (a ``TerminalLabel``'s message), the ``n``-th sent for ``tx-1``."""
    label = TransactionLabel(
        event_id=f"label-{n}",
        event_time=datetime(2026, 4, 2, tzinfo=UTC),
        transaction_id="tx-1",
        account_id="acct-1",
        is_fraud=is_fraud,
    )
    message = SimpleNamespace(partition=3, offset=offset, timestamp=1_000.0 + offset)
    value = TerminalLabel(label=label, terminal_id="term-1").model_dump_json().encode()
    return SimpleNamespace(event=SimpleNamespace(message=message, value=value), record=label, received=0.0)


def test_a_label_that_beats_its_scoring_request_waits_once_and_a_contradicting_one_is_dead_lettered() -> None:
    """The terminal stage puts a label aside where its transaction is not scored yet (the scoring topic behind)
    instead of dead-lettering it; a repeat is written again (a crash may have kept the first write from the
    changelog) but keeps its first offset and wait."""
    labels = Waiting()
    wait = terminal_wait(labels)
    first, repeat, other = handed(1, True, 7), handed(2, True, 8), handed(3, False, 9)

    outcomes = [park(wait, item, item.record, "term-1") for item in (first, repeat, other)]

    assert outcomes[:2] == [None, None]
    assert outcomes[2].kind == "contradicting_label"
    assert "has a fraud label waiting for it already" in str(outcomes[2])
    [(key, parked)] = labels.entries.items()
    assert key == "acct-1 tx-1"
    assert (parked["label"]["event_id"], parked["key"], parked["p"], parked["o"]) == ("label-1", "term-1", 3, 7)
    assert labels.writes == 2


def test_a_scored_transaction_learns_the_label_that_waited_for_it_unless_it_is_labelled_already() -> None:
    parked = {"label": {"transaction_id": "tx-1", "account_id": "acct-1", "is_fraud": True}}

    assert _settle(parked, {"labelled": False}) == "learn"
    assert _settle(parked, {"labelled": True, "fraud": True}) == "drop"  # taken before a crash, or a repeat
    assert _settle(parked, {"labelled": True, "fraud": False}) == "keep"  # for the expiry to dead-letter


def test_a_label_whose_wait_ran_out_is_dead_lettered_naming_the_wait_unless_its_transaction_learned_it() -> None:
    """A crash between the entry that takes a waiting label and the label's removal left it waiting: its transaction's
    entry, in the stage's table or read back from Elasticsearch once the table let it go, shows it learned."""
    parked = {"label": {"transaction_id": "tx-1", "account_id": "acct-1", "is_fraud": True}, "key": "term-1"}
    wait = terminal_wait(Entries())

    assert _overdue(parked, {"labelled": True, "fraud": True}, wait, 86_400.0) is None
    assert _overdue(parked, {"labelled": True}, wait, 86_400.0) is None  # read back: labelled, outcome unknown
    contradicting = _overdue(parked, {"labelled": True, "fraud": False}, wait, 86_400.0)
    assert contradicting.kind == "contradicting_label"
    missed = _overdue(parked, {"labelled": False}, wait, 86_400.0)
    assert missed.kind == "missed_transaction"
    assert "sent again, it is learned" in str(missed)
    unscored = _overdue(parked, None, wait, 86_400.0)
    assert unscored.kind == "not_scored"
    assert str(unscored) == (
        "transaction tx-1 of account acct-1 was not scored on terminal term-1 within 86,400 s of its label reaching"
        " the terminal stage (STREAMSENSE_FRAUD_EARLY_LABEL_WAIT_S): its scoring request was refused or never came"
    )
    account_wait = LabelWait(Entries(), PAYMENTS_LABELS, Entries(), "no_transaction", _no_transaction)
    assert str(_overdue(parked, None, account_wait, 60.0)) == (
        "no transaction tx-1 of account acct-1 came within 60 s of its label (STREAMSENSE_FRAUD_EARLY_LABEL_WAIT_S)"
    )


class Tombstones:
    """Stands in for Faust's producer: keeps the changelog records handed to it."""

    def __init__(self) -> None:
        self.buffer = self
        self.handed: list[tuple[int | None, bytes, bytes | None]] = []

    def send_soon(self, fut: faust.types.tuples.FutureMessage) -> None:
        self.handed.append((fut.message.partition, fut.message.key, fut.message.value))


class Event:
    """The event a stage handles (weakly referenced by Faust's current-event variable)."""

    def __init__(self, partition: int) -> None:
        self.message = SimpleNamespace(partition=partition, topic=PAYMENTS_SCORING)


def test_a_replay_removing_a_waiting_label_the_memory_store_lacks_goes_on_and_a_present_one_is_tombstoned() -> None:
    """The memory store is rebuilt from the changelog at every start, so a label it lacks was removed there; Faust's
    delete of a missing key raised KeyError, which failed the replayed transaction (dead-lettered as
    ``processing_error``)."""
    table = PackedTable(faust.App("waiting-test", store="memory://", autodiscover=False), "waiting", partitions=2)
    table.table.app.producer = producer = Tombstones()
    table.table.data["acct-1 tx-1"] = orjson.dumps({"label": {}})
    event = Event(partition=1)

    def replay() -> None:
        route_table_access(event)
        table.delete("acct-1 tx-2")
        table.delete("acct-1 tx-1")

    async def in_a_task() -> None:  # Faust's changelog send asks for the running loop
        contextvars.copy_context().run(replay)  # the event stays current in that context only, as in an agent's task

    asyncio.run(in_a_task())

    assert producer.handed == [(1, orjson.dumps("acct-1 tx-1"), None)]
    assert dict(table.table.data) == {}


def test_an_entry_a_newer_release_stored_with_a_field_this_one_lacks_still_gives_its_labelled_decision() -> None:
    """A rolling upgrade hands a partition's tables from a newer worker to an older one (or back): the transaction an
    entry keeps may carry a field the older one does not know, which must not fail the stage."""
    transaction = {
        "event_id": "tx-1",
        "event_time": "2026-04-01T10:00:00Z",
        "account_id": "C1",
        "terminal_id": "T1",
        "amount": 12.5,
        "currency": "EUR",
        "merchant_category": "grocery",
    }
    entry = {
        "transaction": transaction,
        "fraud": True,
        "version": "fraud-1",
        "score": 0.9,
        "is_fraud": True,
        "threshold": 0.5,
        "reasons": [["amount", 12.5, 0.3]],
        "features": {},
    }
    record = _labelled(entry, 0.0, datetime(2026, 4, 2, tzinfo=UTC))
    assert record.action["_id"] == "tx-1"
    assert record.action["_source"]["actual"] == "fraud"
