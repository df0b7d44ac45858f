"""Faust's Kafka consumer with exact offset bookkeeping for stream partitions, so that no message is skipped.

Measured with faust-streaming 0.15.3 on a real broker (per-offset logging of fetches, seeks, acks and commits): at
the end of a table recovery Faust resumes the stream partitions and only then seeks them to their committed
offsets, while the fetcher runs. Records fetched before the seek were handed out after it; Faust took the jump
from the committed offset to them for a hole in the log (compaction, transaction markers) and marked the offsets
between as done, then dropped the refetched messages as already read. Those messages were never processed, and
their offsets were committed all the same, or the partition's commit stalled behind the one it never acked.
Three more ways to skip a message were found in the same code: a partition with no committed offset is not sought
at all (its cleared buffer is skipped), commits run with an unknown base offset during a rebalance, and a hole of
one offset at the head of the acked offsets is committed over.

A stream partition's cursor was also seen to jump over a real message in a fetch made after the seek (the offset
was in the log, produced after the seek): some record was consumed from the client and never handed out.

For the partitions that streams consume and ack (not changelogs, which table recovery reads and seeks itself)
this consumer keeps its own cursor per partition, reset by every seek to the committed offset:

- a stream partition that Faust resumes before it has a cursor stays paused until the seek gives it one: records
  fetched before the seek were handed out twice, once then and once after it, and every downstream consumer of the
  decision topic saw those decisions twice (a chat integration run counted a turn's decision twice in two of three
  runs);
- each offset is handed out once per seek, in order; a record past the expected offset makes it seek back to the
  expected one, and only a jump seen again on fresh fetches after seeking back is a real hole in the log
  (compaction, transaction markers), which may be committed over;
- a partition whose fetched records were not all handed out by the end of a fetch round is sought back to its
  cursor (seeking to the cursor only refetches what was never handed out, so it is always safe);
- a partition that has records past its cursor (by the high watermark of its latest fetch) while nothing was handed
  out for ``STALL_AFTER_S`` is sought back to its cursor too. In a benchmark after a long table recovery, 41
  transactions waited 212 s, with their partitions idle, and were decided only when new traffic arrived on them:
  records had been consumed from the client without being handed out, and the round's check had not caught it;
- seeks run on the consumer's own thread, as aiokafka expects (a worker whose seeks ran on the event loop's thread
  once handed out nothing for 4 minutes);
- a partition whose committed offset has not moved for ``STALL_AFTER_S`` while its cursor is past it is checked
  for a lost message (``lost``): one handed out since the latest reset, not acked, no hole in the log, and no
  longer held by anything. A message waiting in a stream buffer or being decided is alive, and offsets whose commit
  is on its way count as committed; a message dropped on the way to its stream, or with an agent that a failed
  delivery ended, is collected. In a CI run one of 20 transactions (offset 154; 155 of the same fetch was decided)
  waited 4 minutes, until the worker stopped, with its partition's commit stuck behind it. A lost committed
  offset is sought back to, and from there only the offsets that were lost too are handed out again. Messages that
  a failed agent abandoned (``abandon``) are lost at once, and their partition is replayed as soon as its commit
  reaches one of them, without the wait;
- a partition is never taken out of the fetch when its stream buffer is under pressure: Faust brings it back only
  when a later read finds the buffer drained, and in a 10,000-event fuzz run one partition was never fetched
  again (its 730 events waited 4.5 minutes, until the worker stopped). A full buffer blocks the fetcher instead.
- only the ack of a message handed out since its partition's latest reset (a seek to the committed offset, or a
  revocation) counts;
- a commit covers only the run of acked offsets that starts at the committed offset.
"""

import time
import weakref
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Container, Iterable
from enum import Enum

from aiokafka import AIOKafkaConsumer
from faust.transport.consumer import RecordMap
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message
from faust.types.tuples import ack_lock
from intervaltree import IntervalTree

from streamsense.streams.metadata_backoff import space_metadata_updates

HOLE_CONFIRMATIONS = 2
"""Fresh fetches, after seeking back to the expected offset, that must jump to the same offset before the offsets
between count as a hole in the log."""


STALL_AFTER_S = 5.0
"""How long a partition may hold records past its cursor, with none handed out, before it is sought back."""

Progress = tuple[int, float]
"""A partition's cursor and the monotonic time since which it has not moved."""


def stalled(progress: Progress | None, expected: int, highwater: int | None, now: float) -> tuple[bool, Progress]:
    """Whether a partition with cursor ``expected`` is stalled, and its progress mark from now on.

    Stalled: the partition's high watermark is past the cursor (records wait to be read) and the cursor has not
    moved for ``STALL_AFTER_S``. A partition with nothing left to read, or whose cursor moved, starts a new mark.
    """
    if highwater is None or highwater <= expected or progress is None or progress[0] != expected:
        return False, (expected, now)
    if now - progress[1] >= STALL_AFTER_S:
        return True, (expected, now)
    return False, progress


def lost(offset: int, acked: Container[int], holes: IntervalTree, alive: Container[int]) -> bool:
    """Whether ``offset``, handed out since the latest reset, was lost on the way to its stream: not acked, no hole
    in the log, and its message no longer alive (see the module docstring)."""
    return offset not in acked and offset not in alive and not holes.overlaps(offset)


class _AliveOffsets(Container[int]):
    """The offsets of one partition whose handed-out messages are still alive."""

    def __init__(self, alive: weakref.WeakValueDictionary[tuple[TP, int], Message], tp: TP) -> None:
        self.alive = alive
        self.tp = tp

    def __contains__(self, offset: object) -> bool:
        return (self.tp, offset) in self.alive


class Fetched(Enum):
    """What to do with a fetched record, given the partition's cursor."""

    DELIVER = "deliver"
    DUPLICATE = "duplicate"
    """Already handed out since the latest seek: drop."""
    JUMP = "jump"
    """Past the expected offset: drop, and seek back to the expected one."""
    HOLE = "hole"
    """A confirmed jump: deliver, after marking the offsets between as a hole in the log."""


def classify(offset: int, expected: int, confirmations: int) -> Fetched:
    """The fate of a record at ``offset`` when the cursor expects ``expected`` and fresh fetches have jumped to
    ``offset`` from there ``confirmations`` times already."""
    if offset == expected:
        return Fetched.DELIVER
    if offset < expected:
        return Fetched.DUPLICATE
    return Fetched.HOLE if confirmations >= HOLE_CONFIRMATIONS else Fetched.JUMP


def commit_offset(acked: list[int], holes: IntervalTree, committed: int) -> int | None:
    """The offset to commit next, or None: the end of the run of acked offsets (with the log's holes filled in)
    that starts exactly at ``committed``. Consumes that run from ``acked`` and the holes it used."""
    if not acked:
        return None
    top = max(acked) + 1
    for hole in holes.overlap(committed, top):
        acked.extend(range(max(hole.begin, committed), min(hole.end, top)))
    holes.chop(0, top)
    acked[:] = sorted({offset for offset in acked if offset >= committed})
    if not acked or acked[0] != committed:
        return None
    end = committed
    while end - committed < len(acked) and acked[end - committed] == end:
        end += 1
    del acked[: end - committed]
    return end


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread, with the fetch size and wait that Faust does not expose, and spaced metadata retries
    (``streams/metadata_backoff.py``).

    Each fetch costs the worker in proportion to its assigned partitions (request and response name every one).
    A fetch that must wait for many bytes returns empty after its short wait when traffic is light: with 64 KiB
    and 5 ms an idle payments worker spent 29% of a core (and Kafka 16-25%) on empty fetches
    (``bench/idle_worker.py``). The default is the long poll, 1.6% of a core idle: the broker answers as soon as a
    message arrives, or after 500 ms; at 25-150 transactions/s latency and CPU per transaction were the same as
    with 64 KiB or 5 ms, within the runs' noise.
    """

    def _create_worker_consumer(self, transport: faust_aiokafka.Transport) -> AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka builds its fetcher from these in ``start``, after this
        consumer._fetch_min_bytes = self.app.fetch_min_bytes
        consumer._fetch_max_wait_ms = self.app.fetch_max_wait_ms
        space_metadata_updates(consumer._client, self.app.metadata_retry_max_s)
        return consumer


class Consumer(faust_aiokafka.Consumer):
    """The aiokafka consumer of Faust, with a cursor per stream partition (see the module docstring)."""

    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._seeks: defaultdict[TP, int] = defaultdict(int)
        self._resets: defaultdict[TP, int] = defaultdict(int)
        self._expected: dict[TP, int] = {}
        self._handed_out: weakref.WeakKeyDictionary[Message, int] = weakref.WeakKeyDictionary()
        self._jumps: dict[TP, tuple[tuple[int, int], int]] = {}
        self._fetched_to: dict[TP, int] = {}
        self._progress: dict[TP, Progress] = {}
        self._alive: weakref.WeakValueDictionary[tuple[TP, int], Message] = weakref.WeakValueDictionary()
        self._head_progress: dict[TP, Progress] = {}
        self._committing: dict[TP, int] = {}
        self.redelivered: Counter[str] = Counter()
        """Offsets handed out again after they were lost, per topic (a metric: ``streams/metrics.py``)."""
        self._replay: dict[TP, tuple[int, frozenset[int]]] = {}
        self._stall_checked = 0.0
        self._resume_after_seek: set[TP] = set()
        self._abandoned: set[TP] = set()

    def committed_offset(self, tp: TP) -> int | None:
        """The next offset of ``tp`` a restart would consume from: everything before it is processed for good."""
        return self._committed_offset.get(tp)

    def _exact(self, tp: TP) -> bool:
        return self.app.topics.acks_enabled_for(tp.topic) and not self._is_changelog_tp(tp)

    def _bump(self, tps: Iterable[TP], reset: bool) -> None:
        """Count a seek of each partition: every seek makes earlier fetches stale; a reset (to the committed offset,
        or a revocation) also makes earlier deliveries' acks void."""
        for tp in tps:
            self._seeks[tp] += 1
            self._resets[tp] += reset

    def resume_partitions(self, tps: Iterable[TP]) -> None:
        """Resume ``tps``, except the stream partitions with no cursor yet: they wait for ``perform_seek``."""
        tps = set(tps)
        held = {tp for tp in tps if tp not in self._expected and self._exact(tp)}
        self._resume_after_seek |= held
        self.pause_partitions(held)
        super().resume_partitions(tps - held)

    async def perform_seek(self) -> None:
        """Seek to the committed offsets and resume the partitions that waited for their cursor, even if the seek
        failed: a partition without a cursor is consumed as Faust would, which beats never consuming it."""
        try:
            await self._seek_to_committed()
        finally:
            held, self._resume_after_seek = self._resume_after_seek & self.assignment(), set()
            super().resume_partitions(held)

    async def _seek_to_committed(self) -> None:
        """Seek to the committed offsets (the earliest where there is none) and restart every cursor there."""
        self._bump(self.assignment(), reset=True)
        await super().perform_seek()
        partitions = [tp for tp in self.assignment() if self._exact(tp)]
        uncommitted = [tp for tp in partitions if not self._committed_offset[tp]]
        if uncommitted:
            earliest = await self.earliest_offsets(*uncommitted)
            await self.seek_wait({tp: earliest[tp] for tp in uncommitted})
            self._committed_offset.update({tp: earliest[tp] for tp in uncommitted})
        self._bump(self.assignment(), reset=True)
        for tp in partitions:
            self._expected[tp] = self._committed_offset[tp]
            self._forget_progress(tp)
            self._acked[tp].clear()
            self._acked_index[tp].clear()
            self._gap[tp].clear()
            self._jumps.pop(tp, None)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self._bump(revoked, reset=True)
        self._resume_after_seek -= revoked
        for tp in revoked:
            self._expected.pop(tp, None)
            self._forget_progress(tp)
        await super().on_partitions_revoked(revoked)

    def _forget_progress(self, tp: TP) -> None:
        self._progress.pop(tp, None)
        self._head_progress.pop(tp, None)
        self._committing.pop(tp, None)
        self._replay.pop(tp, None)
        self._abandoned.discard(tp)

    async def _getmany(self, active_partitions: set[TP] | None, timeout: float) -> RecordMap:
        records = await super()._getmany(active_partitions, timeout)
        self._fetched_to = {tp: batch[-1].offset + 1 for tp, batch in records.items() if batch}
        return records

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        seeks = dict(self._seeks)
        sought_back: set[TP] = set()
        self._fetched_to = {}
        async for tp, message in super().getmany(timeout):
            expected = self._expected.get(tp)
            if expected is not None and self._exact(tp):
                jump = (expected, message.offset)
                seen, confirmations = self._jumps.get(tp, (jump, 0))
                confirmations = confirmations if seen == jump else 0
                fate = classify(message.offset, expected, confirmations)
                if fate is Fetched.DUPLICATE:
                    continue
                if fate is Fetched.DELIVER and self._replayed_already(tp, message.offset):
                    self._expected[tp] = message.offset + 1
                    continue
                if fate is Fetched.JUMP:
                    if tp not in sought_back:
                        sought_back.add(tp)
                        fresh = seeks.get(tp, 0) == self._seeks[tp]
                        self._jumps[tp] = (jump, confirmations + fresh)
                        await self._seek_back(tp, expected)
                    continue
                if fate is Fetched.HOLE:
                    self._gap[tp].addi(expected, message.offset)
                self._jumps.pop(tp, None)
                self._expected[tp] = message.offset + 1
                self._read_offset[tp] = message.offset
                self._handed_out[message] = self._resets[tp]
                self._alive[tp, message.offset] = message
            yield tp, message
        for tp, end in self._fetched_to.items():
            expected = self._expected.get(tp)
            if expected is not None and end > expected and tp not in sought_back and self._exact(tp):
                self.log.info("%s[%d]: fetched records from offset %d were not handed out; seeking back", *tp, expected)
                sought_back.add(tp)
                await self._seek_back(tp, expected)
        await self._seek_back_stalled(sought_back)

    async def _seek_back_stalled(self, sought_back: set[TP]) -> None:
        """Seek every active stream partition that ``stalled`` back to its cursor (see the module docstring); looks
        at most once a second, as a fetch round can be much shorter."""
        now = time.monotonic()
        if now - self._stall_checked < 1.0:
            return
        self._stall_checked = now
        assigned = self.assignment()
        for tp in list(self._get_active_partitions()):
            expected = self._expected.get(tp)
            if expected is None or tp in sought_back or tp not in assigned or not self._exact(tp):
                continue
            highwater = self.highwater(tp)
            stuck, self._progress[tp] = stalled(self._progress.get(tp), expected, highwater, now)
            if stuck:
                self.log.warning(
                    "%s[%d]: nothing handed out for %.0f s, records wait from %d (high watermark %s); seeking back",
                    *tp,
                    STALL_AFTER_S,
                    expected,
                    highwater,
                )
                await self._seek_back(tp, expected)
                continue
            await self._replay_lost_head(tp, now)

    async def _replay_lost_head(self, tp: TP, now: float) -> None:
        """Hand out the committed offset of ``tp`` again if it was ``lost`` and the commit has waited behind it for
        ``STALL_AFTER_S``, or at once if a failed agent abandoned messages of ``tp``; after it, only the offsets that
        were lost too (see the module docstring)."""
        committed = self._committed_offset[tp]
        until = self._expected[tp]
        if committed is None:
            return
        # a commit on its way (waiting for the producer's flush, say) has taken its acks out of the books already
        committed = max(committed, self._committing.get(tp, committed))
        held, self._head_progress[tp] = stalled(self._head_progress.get(tp), committed, until, now)
        held = held or (tp in self._abandoned and until > committed)
        acked, holes, alive = self._acked_index[tp], self._gap[tp], _AliveOffsets(self._alive, tp)
        if not held or not lost(committed, acked, holes, alive):
            return
        self._abandoned.discard(tp)
        missing = [offset for offset in range(committed, until) if lost(offset, acked, holes, alive)]
        self.log.warning(
            "%s[%d]: %d of the offsets %d-%d were handed out but never reached their stream (%s); handing them out "
            "again",
            *tp,
            len(missing),
            committed,
            until - 1,
            ", ".join(map(str, missing[:10])),
        )
        self.redelivered[tp.topic] += len(missing)
        self._replay[tp] = (until, frozenset(range(committed, until)) - frozenset(missing))
        self._expected[tp] = committed
        await self._seek_back(tp, committed)

    def _replayed_already(self, tp: TP, offset: int) -> bool:
        """Whether ``offset`` is one that a replay of lost offsets passes over: acked or alive already."""
        replay = self._replay.get(tp)
        if replay is None:
            return False
        until, done = replay
        if offset >= until:
            del self._replay[tp]
            return False
        return offset in done

    async def _seek_back(self, tp: TP, offset: int) -> None:
        self._bump([tp], reset=False)
        await self.seek_wait({tp: offset})
        self._bump([tp], reset=False)

    def abandon(self, messages: Iterable[Message]) -> None:
        """Forget ``messages`` that an agent dropped unacked when it failed: they are no longer alive, so ``lost``
        finds them and they are handed out again, and shutdown does not wait for their acks. Otherwise whatever
        still refers to them (the agent's crash reason, with its frames) kept them alive: after a crash a scoring
        request was never handed out again, and the worker's shutdown waited for its ack until it was killed.
        Their partitions are replayed once their commit reaches a lost offset, without waiting ``STALL_AFTER_S``:
        nothing else will ack them."""
        for message in messages:
            self._alive.pop((message.tp, message.offset), None)
            self._unacked_messages.discard(message)
            self._abandoned.add(message.tp)

    def on_buffer_full(self, tp: TP) -> None:
        """Keep fetching the partition (see the module docstring); the full buffer itself holds the fetcher back."""

    def ack(self, message: Message) -> bool:
        """Count the ack only if the message was handed out since its partition's latest reset: an earlier copy
        (or one handed out before the first reset) is handed out again, and only that delivery's ack may count."""
        if self._exact(message.tp) and self._handed_out.get(message, -1) != self._resets[message.tp]:
            with ack_lock:
                message.acked = True
                self._unacked_messages.discard(message)
            return False
        return super().ack(message)

    def _new_offset(self, tp: TP) -> int | None:
        if not self._exact(tp):
            return super()._new_offset(tp)
        committed = self._committed_offset[tp]
        if committed is None:
            return None
        offset = commit_offset(self._acked[tp], self._gap[tp], committed)
        if offset is not None:
            self._acked_index[tp].difference_update(range(committed, offset))
            self._committing[tp] = offset
        return offset
