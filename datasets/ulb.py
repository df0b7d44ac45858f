"""Loader for the ULB credit-card fraud layout (``creditcard.csv``: Time, V1..V28, Amount, Class).

The real file cannot be fetched here (it is not on a package registry); this loader reads any file in that layout,
for example a copy a user places in ``get_settings().data_dir``, and is tested on a small fixture.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PCA_COLUMNS = tuple(f"V{i}" for i in range(1, 29))
COLUMNS = ("Time", *PCA_COLUMNS, "Amount", "Class")


@dataclass(frozen=True)
class ULBData:
    """Seconds since the first transaction, the 28 PCA components, amounts and 0/1 fraud labels."""

    time_s: np.ndarray
    features: np.ndarray
    amount: np.ndarray
    is_fraud: np.ndarray

    def __len__(self) -> int:
        return len(self.time_s)

    def time_split(self, train_fraction: float) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks for the earliest ``train_fraction`` of rows by time and the rest (no shuffling)."""
        cut = np.quantile(self.time_s, train_fraction)
        return self.time_s <= cut, self.time_s > cut


def load_ulb(path: Path) -> ULBData:
    """Parse a ``creditcard.csv``-layout file; refuses files whose header is not the ULB layout."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = tuple(h.strip().strip('"') for h in next(reader))
        if header != COLUMNS:
            raise ValueError(f"{path}: expected columns {COLUMNS[:2]}..{COLUMNS[-2:]}, got {header[:3]}...")
        rows = np.array([[float(v.strip().strip('"')) for v in row] for row in reader if row], dtype=np.float64)
    if rows.size == 0:
        rows = np.zeros((0, len(COLUMNS)))
    labels = rows[:, -1]
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError(f"{path}: Class must be 0 or 1")
    return ULBData(
        time_s=rows[:, 0],
        features=rows[:, 1:29],
        amount=rows[:, 29],
        is_fraud=labels.astype(bool),
    )
