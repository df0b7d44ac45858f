"""CPU time of the parts of this machine, for the benchmarks: on a shared 2-core machine a worker's own CPU is only
a part of what an event costs, and Kafka, Elasticsearch and the benchmark client take the rest."""

import psutil

from streamsense.infra.local.launcher import LocalInfra
from streamsense.settings import Settings


def tree_cpu_s(process: psutil.Process) -> float:
    """CPU seconds (user + system) of ``process`` and its descendants (a service may run under a wrapper)."""
    total = 0.0
    for p in (process, *process.children(recursive=True)):
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


class MachineCpu:
    """CPU seconds used so far by Kafka and Elasticsearch (with their child processes), by this script itself
    (publishing and polling; not its children, the workers), and by the machine as a whole."""

    def __init__(self, settings: Settings) -> None:
        self.services = {s.name: psutil.Process(s.pid) for s in LocalInfra(settings).status() if s.pid is not None}

    def cpu_s(self) -> dict[str, float]:
        machine = psutil.cpu_times()
        return {
            **{name: tree_cpu_s(process) for name, process in self.services.items()},
            "bench": sum(psutil.Process().cpu_times()[:2]),
            "machine": machine.user + machine.nice + machine.system + machine.irq + machine.softirq,
        }
