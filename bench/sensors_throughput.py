"""Throughput of SensorMonitor on one core: one reading per call vs batches across devices (fp32 and INT8).

``readings_per_cpu_s`` divides by this process's CPU time (one thread), i.e. readings per second per core even on a
shared machine; ``readings_per_wall_s`` and the latency percentiles are wall clock and include waiting for the CPU.

Needs ``streamsense train sensors`` first. Readings come from the simulator; every device is warmed up (window full)
before timing, so the LSTM path is what is measured. ``state_json_bytes_per_device`` is the mean size of a warmed
device's state as JSON, what the sensors table and its changelog keep per device. Prints one JSON object.
Usage: python bench/sensors_throughput.py [--devices 1000] [--batch 1000] [--rounds 20]
"""

import argparse
import time
from typing import Any

import numpy as np
import orjson
import torch

from streamsense.cli.sensors import artifact_path
from streamsense.datasets.degradation import simulate
from streamsense.models.sensors.artifact import load
from streamsense.models.sensors.monitor import SensorMonitor
from streamsense.schemas.sensors import SensorReading


def _fleet_readings(devices: int, minutes: int) -> list[list[SensorReading]]:
    """Rounds of readings: round m holds minute m of every device (healthy units, so all live the whole time)."""
    fleet = simulate(devices, seed=7, days=minutes / 1440.0, healthy_share=1.0, missing_share=0.0, prefix="bench")
    rounds: list[list[SensorReading]] = [[] for _ in range(minutes)]
    for i in range(len(fleet.minute)):
        rounds[int(fleet.minute[i])].append(fleet.reading(i))
    return rounds


def _percentiles(seconds: list[float]) -> dict[str, float]:
    arr = np.array(seconds) * 1e6
    return {"p50_us": float(np.percentile(arr, 50)), "p99_us": float(np.percentile(arr, 99))}


def bench(monitor: SensorMonitor, rounds: list[list[SensorReading]], warm: int, batch: int) -> dict[str, Any]:
    states: dict[str, dict[str, Any]] = {}
    for readings in rounds[:warm]:
        updated, _ = monitor.process_many(states, readings)
        states.update(updated)
    timed = [r for readings in rounds[warm:] for r in readings]
    single_n = min(2000, len(timed))
    single_states = dict(states)
    single: list[float] = []
    cpu_start = time.process_time()
    for reading in timed[:single_n]:
        start = time.perf_counter()
        new_state, _ = monitor.process(single_states.get(reading.device_id), reading)
        single.append(time.perf_counter() - start)
        single_states[reading.device_id] = new_state
    single_cpu = time.process_time() - cpu_start
    batched: list[float] = []
    sizes: list[int] = []
    cpu_start = time.process_time()
    for start_idx in range(0, len(timed), batch):
        chunk = timed[start_idx : start_idx + batch]
        start = time.perf_counter()
        updated, _ = monitor.process_many(states, chunk)
        batched.append(time.perf_counter() - start)
        states.update(updated)
        sizes.append(len(chunk))
    batched_cpu = time.process_time() - cpu_start
    per_reading = [t / n for t, n in zip(batched, sizes, strict=True)]
    return {
        "single": {
            "readings_per_cpu_s": single_n / single_cpu,
            "readings_per_wall_s": single_n / sum(single),
            **_percentiles(single),
        },
        "batched": {
            "batch": batch,
            "readings_per_cpu_s": sum(sizes) / batched_cpu,
            "readings_per_wall_s": sum(sizes) / sum(batched),
            "batch_latency": _percentiles(batched),
            "per_reading_amortised": _percentiles(per_reading),
        },
        "state_json_bytes_per_device": round(float(np.mean([len(orjson.dumps(s)) for s in states.values()]))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20, help="timed minutes of readings after warm-up")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load(artifact_path("degradation"))
    warm = model.seq_len + 1
    rounds = _fleet_readings(args.devices, warm + args.rounds)
    result = {
        "threads": torch.get_num_threads(),
        "devices": args.devices,
        "fp32": bench(SensorMonitor(model), rounds, warm, args.batch),
        "int8": bench(SensorMonitor(model, int8=True), rounds, warm, args.batch),
    }
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
