"""What a payments worker's retraining rows cost: memory while they are kept, and the read before a retraining.

A worker keeps up to ``fraud_retrain_rows`` labelled rows (the features of each transaction at scoring time, its
label and the online model's logit; ``streams/labelled_rows.py``) and reads them all back, every
``fraud_retrain_every_s``, into the arrays XGBoost trains on (``_rows_to_arrays`` in ``models/fraud/training.py``).
This fills a buffer with ``--rows`` rows of the default feature pipeline's features (seeded random values), then
reports the Python memory the kept rows hold (tracemalloc), the time to add them (while tracing), and for the read:
its wall time, this process's resident size before and after it (memory the allocator kept), and its peak of
Python memory (tracemalloc, in a second read, as tracing slows it down).

    python bench/fraud_retrain_rows.py                   # 200,000 rows, the default buffer
    python bench/fraud_retrain_rows.py --rows 50000

Prints one JSON object.
"""

import argparse
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import psutil

from streamsense.models.fraud.features import FraudFeaturePipeline
from streamsense.models.fraud.training import _rows_to_arrays
from streamsense.streams.labelled_rows import LabelledRows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = FraudFeaturePipeline().names
    values = np.random.default_rng(args.seed).lognormal(size=(args.rows, len(names)))
    process = psutil.Process()
    with tempfile.TemporaryDirectory() as folder:
        tracemalloc.start()
        start = time.perf_counter()
        rows = LabelledRows(Path(folder) / "rows.jsonl", args.rows)
        for i, row in enumerate(values.tolist()):
            rows.add(
                {
                    "features": dict(zip(names, row, strict=True)),
                    "is_fraud": i % 150 == 0,
                    "event_time": 1.7e9 + i,
                    "online_logit": -4.0,
                }
            )
        add_s = time.perf_counter() - start
        kept = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del values
        rss_before = process.memory_info().rss
        start = time.perf_counter()
        X, *_ = _rows_to_arrays(rows.take(), names)
        read_s = time.perf_counter() - start
        rss_after = process.memory_info().rss
        del X
        tracemalloc.start()
        X, *_ = _rows_to_arrays(rows.take(), names)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        file_bytes = sum(p.stat().st_size for p in Path(folder).iterdir())
    report = {
        "rows": args.rows,
        "features": len(names),
        "files_mib": round(file_bytes / 2**20, 1),
        "kept_python_mib": round(kept / 2**20, 2),
        "add_us_per_row": round(add_s * 1e6 / args.rows, 1),
        "read_s": round(read_s, 2),
        "read_rss_growth_mib": round((rss_after - rss_before) / 2**20, 1),
        "read_peak_python_mib": round(peak / 2**20, 1),
        "arrays_mib": round(X.nbytes / 2**20, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
