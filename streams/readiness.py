"""``/ready`` on a worker's web port: 200 once the worker decides events, 503 while it joins or recovers tables.

``/metrics`` answers as soon as the web server is up, minutes before a worker with large tables makes its first
decision; orchestrators (the Kubernetes readiness probe) and the demo wait on this page instead.
"""

import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass

import faust

READY_PATH = "/ready"


@dataclass(frozen=True)
class Readiness:
    """Why a worker is or is not deciding events yet."""

    assigned_partitions: int
    rebalancing: bool
    recovering: bool
    recovery_completed: bool

    @property
    def ready(self) -> bool:
        return self.recovery_completed and not self.rebalancing and not self.recovering

    def as_dict(self) -> dict[str, bool | int]:
        """The verdict and every field it rests on."""
        return {"ready": self.ready, **asdict(self)}


def readiness(app: faust.App) -> Readiness:
    """The worker's state as Faust keeps it: its active partitions (the assignor's view, which exists before the
    consumer starts), a rebalance in progress, a table recovery running or not yet done."""
    recovery = app.tables.recovery
    return Readiness(
        assigned_partitions=len(app.assignor.assigned_actives()),
        rebalancing=bool(app.rebalancing),
        recovering=bool(recovery.in_recovery),
        recovery_completed=recovery.completed.is_set(),
    )


def install_readiness(app: faust.App) -> None:
    """Serve ``/ready``: status 200 or 503, with the reasons as JSON."""

    @app.page(READY_PATH)
    async def ready_page(web: faust.web.Web, request: faust.web.Request) -> faust.web.Response:
        state = readiness(app)
        return web.json(state.as_dict(), status=200 if state.ready else 503)


def answers_ready(port: int, host: str = "127.0.0.1") -> bool:
    """Whether the worker on ``host:port`` answers ``/ready`` with 200 (no answer counts as not ready)."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{READY_PATH}", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_until_ready(worker: subprocess.Popen, port: int) -> None:
    """Wait until the worker process answers ``/ready`` on ``port``; exit with its status if it dies first."""
    while not answers_ready(port):
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited with {worker.returncode}")
        time.sleep(0.5)
