"""Where the payments worker keeps what it needs across restarts."""

import asyncio
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import patch

from faust.types import TP

from streamsense.agents.payments import _decide_labels, labelled_rows_path, scoring_share, stale_entries
from streamsense.settings import Settings
from streamsense.streams.app import create_app
from streamsense.streams.topics import PAYMENTS_SCORING, PAYMENTS_TRANSACTIONS, STREAMS


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
