"""Where the payments worker keeps what it needs across restarts."""

import asyncio
from pathlib import Path

from streamsense.agents.payments import labelled_rows_path
from streamsense.settings import Settings
from streamsense.streams.app import create_app
from streamsense.streams.topics import STREAMS


def test_each_worker_on_a_host_keeps_its_labelled_rows_in_a_file_of_its_own(tmp_path: Path) -> None:
    async def path(web_port: int | None = None, name: str = "") -> Path:
        settings = Settings(state_dir=tmp_path, worker_name=name)
        return labelled_rows_path(create_app(STREAMS["payments"], settings, web_port))

    first, second, named = (asyncio.run(path(7001)), asyncio.run(path(7002)), asyncio.run(path(name="w1")))

    assert len({first, second, named}) == 3
    assert asyncio.run(path(name="w1")) == named  # a worker restarted under its name finds its rows again
