"""Nations and Kinships link-prediction benchmarks, read from inside the ``pykeen==1.11.1`` wheel (MIT licence).

``streamsense data kg-benchmarks`` downloads the wheel once (pip, sha256-checked) into the cache; the triples are
read from the zip afterwards and pykeen itself is never installed or imported.
"""

import zipfile
from pathlib import Path

from streamsense.datasets.pypi_wheel import fetch_wheel
from streamsense.settings import get_settings

PACKAGE = "pykeen==1.11.1"
WHEEL = "pykeen-1.11.1-py3-none-any.whl"
SHA256 = "b6cc0ab012fc6ba4f37b58fb7081a409a5c1f04cbbb0e0e9c2256e911757d4ba"
LICENSE = "MIT (pykeen 1.11.1)"
NAMES = ("nations", "kinships")

Triple = tuple[str, str, str]


def wheel_path() -> Path:
    return get_settings().data_dir / "kg_benchmarks" / WHEEL


def fetch(target: Path | None = None) -> Path:
    """Download the wheel with pip (no dependencies, no install) and keep it only if the sha256 matches."""
    return fetch_wheel(PACKAGE, WHEEL, SHA256, target or wheel_path())


def load(name: str, wheel: Path | None = None) -> dict[str, list[Triple]]:
    """``{"train": [...], "valid": [...], "test": [...]}`` of (head, relation, tail) strings."""
    if name not in NAMES:
        raise ValueError(f"unknown benchmark {name!r}; choose from {NAMES}")
    wheel = wheel or wheel_path()
    if not wheel.exists():
        raise FileNotFoundError(f"{wheel}: run `streamsense data kg-benchmarks` first")
    splits = {}
    with zipfile.ZipFile(wheel) as archive:
        for split in ("train", "valid", "test"):
            lines = archive.read(f"pykeen/datasets/{name}/{split}.txt").decode().splitlines()
            splits[split] = [(h, r, t) for h, r, t in (line.split("\t") for line in lines if line.strip())]
    return splits
