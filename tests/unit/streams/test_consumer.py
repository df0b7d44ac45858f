import asyncio
from pathlib import Path

import pytest
from faust.types import TP
from intervaltree import IntervalTree

from streamsense.settings import Settings
from streamsense.streams.app import create_app
from streamsense.streams.consumer import (
    HOLE_CONFIRMATIONS,
    STALL_AFTER_S,
    Consumer,
    Fetched,
    classify,
    commit_offset,
    lost,
)
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


def test_an_offset_handed_out_and_neither_acked_nor_alive_nor_a_hole_was_lost():
    """The CI case: offset 154 never reached its stream, 155 of the same fetch was decided and acked."""
    assert lost(154, acked={155}, holes=IntervalTree(), alive=set())


def test_an_offset_acked_or_still_alive_or_in_a_hole_of_the_log_was_not_lost():
    holes = IntervalTree()
    holes.addi(154, 155)
    assert not lost(154, acked={154}, holes=IntervalTree(), alive=set())
    assert not lost(154, acked=set(), holes=IntervalTree(), alive={154})
    assert not lost(154, acked=set(), holes=holes, alive=set())


class HandedOut:
    """Stands in for a handed-out Faust message: only whether it is alive counts."""


def consumer_recording_seeks(tmp_path: Path) -> tuple[Consumer, list[tuple[TP, int]]]:
    """A payments worker's consumer whose seeks back are recorded instead of sent (call it inside an event loop)."""
    consumer = create_app(STREAMS["payments"], Settings(state_dir=tmp_path)).consumer
    sought: list[tuple[TP, int]] = []

    async def seek_back(partition: TP, offset: int) -> None:
        sought.append((partition, offset))

    consumer._seek_back = seek_back
    return consumer, sought


def test_lost_offsets_are_handed_out_again_after_the_stall_and_only_they(tmp_path: Path) -> None:
    tp = TP("payments.transactions", 8)

    async def replay() -> tuple[list[tuple[TP, int]], list[bool]]:
        consumer, sought = consumer_recording_seeks(tmp_path)
        consumer._committed_offset[tp] = 154
        consumer._acked_index[tp].update({155, 157})
        waiting = HandedOut()  # 158 waits in a stream buffer
        consumer._alive[tp, 158] = waiting
        consumer._expected[tp] = 159
        await consumer._replay_lost_head(tp, now=100.0)
        assert sought == [], "not before the commit has waited for the stall time"
        await consumer._replay_lost_head(tp, now=100.0 + STALL_AFTER_S)
        assert consumer._expected[tp] == 154
        assert consumer.redelivered == {"payments.transactions": 2}
        return sought, [consumer._replayed_already(tp, offset) for offset in (154, 155, 156, 157, 158, 159, 155)]

    sought, passed_over = asyncio.run(replay())
    assert sought == [(tp, 154)]
    # 154 and 156 are handed out again; 155 and 157 were acked and 158 is alive; the replay ends at the old cursor
    assert passed_over == [False, True, False, True, True, False, False]


def test_an_alive_committed_offset_is_waited_for_not_handed_out_again(tmp_path: Path) -> None:
    tp = TP("payments.transactions", 3)

    async def replay() -> list[tuple[TP, int]]:
        consumer, sought = consumer_recording_seeks(tmp_path)
        consumer._committed_offset[tp] = 10
        waiting = HandedOut()  # held up by an Elasticsearch outage, say
        consumer._alive[tp, 10] = waiting
        consumer._expected[tp] = 12
        for now in (0.0, STALL_AFTER_S, 2 * STALL_AFTER_S):
            await consumer._replay_lost_head(tp, now)
        return sought

    assert asyncio.run(replay()) == []


def test_offsets_whose_commit_is_on_its_way_are_not_lost(tmp_path: Path) -> None:
    """Faust takes the acks out of the books before its commit waits for the producer's flush (seconds under load)."""
    tp = TP("payments.scoring", 2)

    async def replay() -> tuple[int | None, list[tuple[TP, int]]]:
        consumer, sought = consumer_recording_seeks(tmp_path)
        consumer._exact = lambda _tp: True
        consumer._committed_offset[tp] = 10
        consumer._acked[tp] = [10, 11]
        consumer._acked_index[tp].update({10, 11})
        consumer._expected[tp] = 12
        committing = consumer._new_offset(tp)
        for now in (0.0, STALL_AFTER_S, 2 * STALL_AFTER_S):
            await consumer._replay_lost_head(tp, now)
        return committing, sought

    assert asyncio.run(replay()) == (12, [])


def consumer_with_assignment(tmp_path: Path, assigned: set[TP], seek_fails: bool = False) -> Consumer:
    """A payments worker's consumer assigned ``assigned``, all paused as after a rebalance, whose seek to the
    committed offsets only restarts the cursors (or fails); call it inside an event loop."""
    consumer = create_app(STREAMS["payments"], Settings(state_dir=tmp_path)).consumer
    consumer._exact = lambda _tp: True
    consumer.assignment = lambda: assigned

    async def seek_to_committed() -> None:
        if seek_fails:
            raise TimeoutError("the broker did not answer")
        consumer._expected.update(dict.fromkeys(consumer.assignment(), 0))

    consumer._seek_to_committed = seek_to_committed
    consumer.pause_partitions(assigned)
    return consumer


def test_a_stream_partition_resumed_before_its_seek_is_fetched_only_once_the_seek_gave_it_a_cursor(
    tmp_path: Path,
) -> None:
    new, known = TP("payments.transactions", 0), TP("payments.transactions", 1)

    async def resume() -> tuple[set[TP], set[TP]]:
        consumer = consumer_with_assignment(tmp_path, {new, known})
        consumer._expected[known] = 7
        consumer.resume_partitions({new, known})
        before_seek = set(consumer._get_active_partitions())
        await consumer.perform_seek()
        return before_seek, set(consumer._get_active_partitions())

    assert asyncio.run(resume()) == ({known}, {new, known})


def test_a_partition_waiting_for_its_seek_is_resumed_even_if_the_seek_fails_but_not_once_revoked(
    tmp_path: Path,
) -> None:
    kept, revoked = TP("payments.transactions", 0), TP("payments.transactions", 1)

    async def resume() -> set[TP]:
        consumer = consumer_with_assignment(tmp_path, {kept, revoked}, seek_fails=True)
        consumer.resume_partitions({kept, revoked})
        await consumer.on_partitions_revoked({revoked})
        consumer.assignment = lambda: {kept}
        with pytest.raises(TimeoutError):
            await consumer.perform_seek()
        return set(consumer._get_active_partitions())

    assert asyncio.run(resume()) == {kept}


def handed_out(consumer: Consumer, tp: TP, offset: int) -> HandedOut:
    message = HandedOut()
    message.tp, message.offset = tp, offset
    consumer._alive[tp, offset] = message
    consumer._unacked_messages.add(message)
    return message


def test_messages_a_failed_agent_abandoned_are_handed_out_again_at_once(tmp_path: Path) -> None:
    tp = TP("payments.scoring", 6)

    async def replay() -> list[tuple[TP, int]]:
        consumer, sought = consumer_recording_seeks(tmp_path)
        held = handed_out(consumer, tp, 0)  # still referred to by the failed agent's crash reason
        consumer._committed_offset[tp] = 0
        consumer._expected[tp] = 1
        consumer.abandon([held])
        assert held not in consumer._unacked_messages, "shutdown would wait for its ack"
        await consumer._replay_lost_head(tp, now=0.0)
        assert sought == [(tp, 0)], "no stall to wait out: nothing else will ack it"
        await consumer._replay_lost_head(tp, now=0.5)
        return sought

    assert asyncio.run(replay()) == [(tp, 0)]


def test_an_abandoned_partition_is_replayed_only_once_its_commit_reaches_the_abandoned_offset(tmp_path: Path) -> None:
    tp = TP("payments.scoring", 7)

    async def replay() -> list[tuple[TP, int]]:
        consumer, sought = consumer_recording_seeks(tmp_path)
        waiting = handed_out(consumer, tp, 10)  # decided by the restarted agent, not yet acked
        dropped = handed_out(consumer, tp, 11)
        consumer._committed_offset[tp] = 10
        consumer._expected[tp] = 12
        consumer.abandon([dropped])
        await consumer._replay_lost_head(tp, now=0.0)
        assert sought == [], "the committed offset is alive: wait for it"
        consumer._alive.pop((tp, 10))
        consumer._committed_offset[tp] = 11
        await consumer._replay_lost_head(tp, now=1.0)
        assert waiting.offset == 10
        return sought

    assert asyncio.run(replay()) == [(tp, 11)]
