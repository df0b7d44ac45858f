"""How a worker treats an agent that keeps crashing: restart it a few times, then exit for a fresh process.

Faust restarts a crashed agent (a batch's delivery or log write that failed, say) and the messages it held are
handed out again, which suits a passing failure. Its default allows 100 restarts a second, though, so an agent that
fails on every batch was restarted about every 5 s for as long as the worker ran, holding its partitions and
deciding nothing (seen once: 124 crashes in 10 minutes, every Elasticsearch request of the worker failing the same
way, broken by a diagnostic hook outside the repo). Past ``max_restarts`` within ``window_s`` the worker exits with
status 1, so that its orchestrator starts a fresh process with fresh clients and the group can give the partitions
to a worker that decides them.
"""

from typing import Any

from mode import OneForOneSupervisor


def agent_supervisor(max_restarts: int, window_s: float) -> type[OneForOneSupervisor]:
    """The supervisor class for a worker's agents (Faust's ``agent_supervisor`` setting), with these limits."""

    class AgentSupervisor(OneForOneSupervisor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # mode's token bucket holds ``over`` restarts and gains back ``max_restarts`` of them a second
            limits = {"max_restarts": max_restarts / window_s, "over": max_restarts}
            super().__init__(*args, **{**kwargs, **limits})

    return AgentSupervisor
