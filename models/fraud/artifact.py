"""Versioned fraud artifacts on disk: ``<root>/v0001/`` holds the booster, its blend, threshold and metrics.

A version folder is written under a temporary name and renamed into place, so a reader never sees half an artifact;
the highest ``vNNNN`` folder with a ``meta.json`` is the newest.
"""

import io
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from streamsense.models.fraud.blend import Blend
from streamsense.models.fraud.features import NO_DISTANCE
from streamsense.models.fraud.xgb_model import CompiledTrees, load_booster, save_booster

ARTIFACT_FORMAT = 1
ONLINE_CHECKPOINT = "online.pkl"
FEATURE_CHECKPOINT = "features.json"
SAMPLE_FILE = "sample.npy"
SAMPLE_ROWS = 2_000
DISTANCE_GRID = 16
"""How many training distances a transaction without coordinates is scored at, its margins averaged."""
GAN_MODES = ("auto", "on", "off")
_VERSION_DIR = re.compile(r"^v(\d{4,})$")


@dataclass(frozen=True)
class TrainingChoices:
    """The operator's training choices, kept in each version so that a worker's retraining makes the same ones:
    the threshold rule (a validation alert rate when set, else a target precision), GAN augmentation and the share of
    training rows also learnt as if on a new card."""

    target_precision: float = 0.8
    target_alert_rate: float | None = None
    gan: str = "auto"
    cold_share: float = 0.1

    def __post_init__(self) -> None:
        numbers = (self.target_precision, self.cold_share, self.target_alert_rate or 0.0)
        if not all(isinstance(n, int | float) for n in numbers):
            raise ValueError(f"training choices must be numbers where numbers are due: {self!r}")
        if self.gan not in GAN_MODES:
            raise ValueError("gan must be auto, on or off")
        if not 0.0 <= self.cold_share <= 1.0:
            raise ValueError("cold-share must be between 0 and 1")

    @classmethod
    def of(cls, meta: dict[str, Any]) -> "TrainingChoices":
        """A version's choices from its ``meta.json``. One written before they were kept (stop 34) recorded its
        threshold rule and GAN mode among its metrics, and read as the defaults otherwise (its cold share too);
        a field of another kind or value is a ``ValueError``, as any unreadable artifact is."""
        if "choices" in meta:
            given = meta["choices"]
        else:
            metrics = meta.get("metrics", {})
            rule = metrics.get("combined", {}).get("threshold_rule", {})
            mode = metrics.get("gan_augmentation", {}).get("mode")
            given = {**rule, **({"gan": mode} if mode is not None else {})}
        known = {name: given[name] for name in cls.__dataclass_fields__ if name in given}
        try:
            return cls(**known)
        except ValueError as error:
            raise ValueError(f"unreadable training choices {given!r}: {error}") from None

    def threshold_rule(self) -> dict[str, float]:
        if self.target_alert_rate is not None:
            return {"target_alert_rate": self.target_alert_rate}
        return {"target_precision": self.target_precision}


def distance_grid(X: np.ndarray, names: list[str]) -> np.ndarray:
    """The distances of training rows ``X`` at evenly spaced quantiles (empty where they hold none)."""
    if "distance" not in names:
        return np.zeros(0)
    column = X[:, names.index("distance")]
    known = column[column != NO_DISTANCE]
    if not len(known):
        return np.zeros(0)
    return np.quantile(known, (np.arange(DISTANCE_GRID) + 0.5) / DISTANCE_GRID)


@dataclass
class FraudArtifact:
    """A trained XGBoost model with everything needed to turn its margin into a calibrated decision."""

    booster: xgb.Booster
    names: list[str]
    feature_config: dict[str, Any]
    blend: Blend
    threshold: float
    metrics: dict[str, Any] = field(default_factory=dict)
    choices: TrainingChoices = field(default_factory=TrainingChoices)
    version: int = 0
    created_at: float = 0.0
    compiled: CompiledTrees | None = None
    distances: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """``distance_grid`` of the training rows (of their sample, ``SAMPLE_FILE``, once saved)."""

    def __post_init__(self) -> None:
        if self.compiled is None:
            self.compiled = CompiledTrees(self.booster)

    def margin_and_contribs(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The booster's margins and contributions (``CompiledTrees.margin_and_contribs``). A row without
        coordinates gets the mean of its margins and contributions at ``distances``: its expected score over the
        distances the model learned from. Walked as it is, the booster would read the sentinel as distance 0, the
        riskiest (ten times the score of a typical distance in the simulator), and a missing value as far away."""
        margins, contribs = self.compiled.margin_and_contribs(X)
        if not len(self.distances):
            return margins, contribs
        column = self.names.index("distance")
        missing = np.flatnonzero(np.asarray(X)[:, column] == NO_DISTANCE)
        if len(missing):
            k = len(self.distances)
            filled = np.repeat(np.asarray(X, dtype=np.float64)[missing], k, axis=0)
            filled[:, column] = np.tile(self.distances, len(missing))
            m, c = self.compiled.margin_and_contribs(filled)
            margins[missing] = m.reshape(len(missing), k).mean(axis=1)
            contribs[missing] = c.reshape(len(missing), k, -1).mean(axis=1)
        return margins, contribs

    @property
    def version_name(self) -> str:
        return version_name(self.version)

    def meta(self) -> dict[str, Any]:
        return {
            "format": ARTIFACT_FORMAT,
            "version": self.version,
            "created_at": self.created_at,
            "names": self.names,
            "feature_config": self.feature_config,
            "blend": self.blend.to_dict(),
            "threshold": self.threshold,
            "metrics": self.metrics,
            "choices": asdict(self.choices),
        }


def version_name(version: int) -> str:
    return f"v{version:04d}"


def list_versions(root: Path) -> list[int]:
    """Complete versions under ``root`` (folders ``vNNNN`` with a ``meta.json``), ascending."""
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        match = _VERSION_DIR.match(entry.name)
        if match and (entry / "meta.json").is_file():
            found.append(int(match.group(1)))
    return sorted(found)


def save(artifact: FraudArtifact, root: Path, extra_files: dict[str, bytes] | None = None) -> Path:
    """Write ``artifact`` as the next version under ``root`` (atomic rename) and return its folder."""
    root.mkdir(parents=True, exist_ok=True)
    versions = list_versions(root)
    artifact.version = (versions[-1] if versions else 0) + 1
    artifact.created_at = time.time()
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    save_booster(artifact.booster, staging / "model.ubj")
    for name, payload in (extra_files or {}).items():
        (staging / name).write_bytes(payload)
    (staging / "meta.json").write_text(json.dumps(artifact.meta(), indent=2))
    target = root / artifact.version_name
    os.rename(staging, target)
    return target


def feature_sample(X: np.ndarray, seed: int, rows: int = SAMPLE_ROWS) -> bytes:
    """``SAMPLE_FILE``'s bytes: a seeded sample of the rows a version was trained on, for ``report fraud``."""
    picked = X[np.random.default_rng(seed).choice(len(X), size=min(rows, len(X)), replace=False)]
    out = io.BytesIO()
    np.save(out, picked.astype(np.float32))
    return out.getvalue()


def newest_with(root: Path, name: str) -> Path | None:
    """The newest version folder that holds the file ``name`` (versions written by older code may lack it)."""
    for version in reversed(list_versions(root)):
        if (root / version_name(version) / name).is_file():
            return root / version_name(version)
    return None


def read_meta(path: Path) -> dict[str, Any]:
    """One version folder's ``meta.json`` (its metrics among them), without loading the booster."""
    return json.loads((path / "meta.json").read_text())


def load(path: Path) -> FraudArtifact:
    """Load one version folder written by ``save``."""
    meta = read_meta(path)
    if meta.get("format") != ARTIFACT_FORMAT:
        raise ValueError(f"{path}: unsupported artifact format {meta.get('format')}")
    sample = path / SAMPLE_FILE
    return FraudArtifact(
        booster=load_booster(path / "model.ubj"),
        names=meta["names"],
        feature_config=meta["feature_config"],
        blend=Blend(**meta["blend"]),
        threshold=float(meta["threshold"]),
        metrics=meta["metrics"],
        choices=TrainingChoices.of(meta),
        version=int(meta["version"]),
        created_at=float(meta["created_at"]),
        distances=distance_grid(np.load(sample), meta["names"]) if sample.is_file() else np.zeros(0),
    )


def load_latest(root: Path) -> FraudArtifact | None:
    versions = list_versions(root)
    return load(root / version_name(versions[-1])) if versions else None
