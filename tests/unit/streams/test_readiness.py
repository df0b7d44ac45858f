import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from streamsense.settings import Settings
from streamsense.streams.app import create_app
from streamsense.streams.readiness import Readiness, answers_ready, readiness, wait_until_ready
from streamsense.streams.topics import STREAMS
from streamsense.streams.worker import free_port


def test_a_worker_is_ready_only_after_recovery_completed_and_outside_a_rebalance():
    done = Readiness(assigned_partitions=4, rebalancing=False, recovering=False, recovery_completed=True)
    assert done.ready
    assert not Readiness(4, rebalancing=True, recovering=False, recovery_completed=True).ready
    assert not Readiness(4, rebalancing=False, recovering=True, recovery_completed=True).ready
    assert not Readiness(0, rebalancing=False, recovering=False, recovery_completed=False).ready


def test_the_ready_answer_names_the_reasons():
    state = Readiness(assigned_partitions=2, rebalancing=False, recovering=True, recovery_completed=True)
    assert state.as_dict() == {
        "ready": False,
        "assigned_partitions": 2,
        "rebalancing": False,
        "recovering": True,
        "recovery_completed": True,
    }


def test_a_worker_that_has_not_started_is_not_ready_and_becomes_ready_when_faust_completes_recovery(
    tmp_path: Path,
) -> None:
    async def states() -> tuple[Readiness, Readiness]:
        app = create_app(STREAMS["payments"], Settings(state_dir=tmp_path))
        before = readiness(app)
        app.tables.recovery.completed.set()
        return before, readiness(app)

    before, after = asyncio.run(states())
    assert not before.ready
    assert after.ready and after.assigned_partitions == 0


def test_a_worker_that_does_not_answer_is_not_ready():
    assert not answers_ready(free_port())


def test_waiting_for_a_worker_that_dies_before_it_is_ready_exits_with_its_status():
    worker = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(SystemExit, match="the worker exited with 3"):
        wait_until_ready(worker, free_port())
