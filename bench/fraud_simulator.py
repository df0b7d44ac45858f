"""Simulator speed: seconds to generate about a million transactions (numpy, one process), and their fraud mix.

python bench/fraud_simulator.py [--customers 5000] [--terminals 10000] [--days 100]
"""

import argparse
import json
import time

import numpy as np

from streamsense.datasets.fraud_simulator import SimulatorConfig, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--terminals", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    config = SimulatorConfig(n_customers=args.customers, n_terminals=args.terminals, n_days=args.days, seed=args.seed)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    sim = simulate(config)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    scenarios = np.bincount(sim.scenario, minlength=4).tolist()
    print(
        json.dumps(
            {
                "transactions": len(sim),
                "seconds_wall": round(wall, 2),
                "seconds_cpu": round(cpu, 2),
                "tx_per_s_wall": round(len(sim) / wall),
                "fraud_rate": round(float(sim.is_fraud.mean()), 5),
                "by_scenario": dict(zip(["genuine", "amount", "terminal", "customer"], scenarios, strict=True)),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
