import asyncio
from pathlib import Path

from intervaltree import IntervalTree

from streamsense.settings import Settings
from streamsense.streams.app import create_app
from streamsense.streams.consumer import HOLE_CONFIRMATIONS, Fetched, classify, commit_offset
from streamsense.streams.topics import STREAMS


def test_the_expected_offset_is_delivered():
    assert classify(10, 10, confirmations=0) is Fetched.DELIVER


def test_an_offset_already_handed_out_since_the_seek_is_a_duplicate():
    assert classify(9, 10, confirmations=0) is Fetched.DUPLICATE


def test_a_jump_past_the_expected_offset_seeks_back_rather_than_skipping():
    """The measured Faust bug: records prefetched before the seek were taken for a hole, and the offsets between
    were committed unprocessed."""
    assert classify(1336, 1326, confirmations=0) is Fetched.JUMP
    assert classify(1336, 1326, confirmations=HOLE_CONFIRMATIONS - 1) is Fetched.JUMP


def test_a_jump_confirmed_by_fresh_fetches_is_a_hole_in_the_log():
    assert classify(12, 10, confirmations=HOLE_CONFIRMATIONS) is Fetched.HOLE


def test_commit_covers_the_run_that_starts_at_the_committed_offset():
    acked = [10, 11, 12, 14]
    assert commit_offset(acked, IntervalTree(), 10) == 13
    assert acked == [14]


def test_a_one_offset_hole_at_the_head_holds_the_commit_back():
    """Faust committed over it (``min(acked) - committed > 1``): the message at the hole was never processed."""
    acked = [11, 12, 13]
    assert commit_offset(acked, IntervalTree(), 10) is None
    assert acked == [11, 12, 13]


def test_holes_in_the_log_are_committed_over():
    holes = IntervalTree()
    holes.addi(10, 12)
    acked = [12, 13]
    assert commit_offset(acked, holes, 10) == 14
    assert acked == [] and not holes


def test_acks_below_the_committed_offset_are_ignored():
    acked = [5, 6, 10]
    assert commit_offset(acked, IntervalTree(), 10) == 11


def test_nothing_acked_commits_nothing():
    assert commit_offset([], IntervalTree(), 10) is None


def test_the_worker_consumer_fetches_with_the_configured_size_and_wait(tmp_path: Path) -> None:
    async def fetch_settings() -> tuple[int, int]:
        settings = Settings(state_dir=tmp_path, consumer_fetch_min_bytes=1234, consumer_fetch_max_wait_ms=7)
        app = create_app(STREAMS["sensors"], settings)
        consumer = app.consumer._thread._create_worker_consumer(app.transport)
        await consumer.stop()
        return consumer._fetch_min_bytes, consumer._fetch_max_wait_ms

    assert asyncio.run(fetch_settings()) == (1234, 7)
