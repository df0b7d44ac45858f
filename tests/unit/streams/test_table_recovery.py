"""The worker's table recovery tells when a replay is done exactly as Faust's own does."""

import asyncio
import random
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import faust.tables.recovery
from faust.types import TP

from streamsense.settings import Settings
from streamsense.streams.app import create_app
from streamsense.streams.table_recovery import Recovery
from streamsense.streams.topics import STREAMS


def _faust_need_recovery(state: SimpleNamespace) -> bool:
    state.active_remaining = lambda: faust.tables.recovery.Recovery.active_remaining(state)
    return faust.tables.recovery.Recovery.need_recovery(state)


def test_need_recovery_answers_as_faust_does_for_partitions_behind_done_unknown_or_never_read() -> None:
    rng = random.Random(0)
    for _ in range(2_000):
        tps = [TP(f"changelog-{t}", p) for t in range(2) for p in range(rng.randint(0, 6))]
        highwaters = {tp: rng.choice([None, -1, 0, 5, 100]) for tp in tps}
        offsets = Counter({tp: rng.choice([None, -1, 0, 5, 99, 100]) for tp in tps if rng.random() < 0.8})
        state = SimpleNamespace(active_highwaters=highwaters, active_offsets=offsets)
        assert Recovery.need_recovery(state) == _faust_need_recovery(state)


def test_the_workers_app_recovers_its_tables_with_the_quick_check(tmp_path: Path) -> None:
    async def recovery() -> object:
        app = create_app(STREAMS["payments"], Settings(state_dir=tmp_path, worker_name="w1"))
        return app.tables.recovery

    assert isinstance(asyncio.run(recovery()), Recovery)
