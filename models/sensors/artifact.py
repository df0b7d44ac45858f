"""Everything a sensor monitor needs, saved as one folder: weights, normalisers, policies, a frozen HalfSpaceTrees.

Layout: ``meta.json`` (version, configuration, normalisers, metrics it was trained to), ``weights.pt`` (LSTM
state dict) and ``hst.pkl`` (the river model, pickled as river recommends).
"""

import json
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from river.anomaly import HalfSpaceTrees

from streamsense.models.sensors.forecaster import SensorLSTM
from streamsense.models.sensors.policy import AdaptiveThreshold, WarningPolicy

FORMAT_VERSION = "1"
HST_Z_RANGE = 4.0
MAX_Z = 1e6
"""Standard deviations from its regime's mean beyond which a reading is refused as unreadable: a unit or wiring
fault, not a state of the machine; further out the LSTM's float32 arithmetic overflows, and a device whose state
took the NaN that follows could not be judged again until it went silent."""


def _names(names: list[str], most: int = 10, longest: int = 40) -> str:
    """A few of the names a reading sent, each cut short: a reason repeats what it is given, and one reading may
    name thousands of characters' worth of channels."""
    shown = [n if len(n) <= longest else n[:longest] + "..." for n in names[:most]]
    return ", ".join(shown) + (f" and {len(names) - most} more" if len(names) > most else "")


@dataclass
class SensorModel:
    """A trained sensor model for one channel layout (e.g. the simulator fleet, or the Suthaharan motes)."""

    name: str
    version: str
    channels: tuple[str, ...]
    step_s: float
    seq_len: int
    lateness: int
    regime_mean: np.ndarray
    regime_std: np.ndarray
    resid_std: np.ndarray
    net: SensorLSTM
    threshold: AdaptiveThreshold
    hst: HalfSpaceTrees
    hst_threshold: float
    warning: WarningPolicy | None = None
    rul_cap: float = 240.0
    horizon_minutes: float = 15.0
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def n_regimes(self) -> int:
        return int(self.regime_mean.shape[0])

    def unusable(self, values: Mapping[str, float], regime: int | None, ahead_s: float = 0.0) -> str | None:
        """Why the model cannot judge a reading, or None. A reading with none of its channels would be decided on
        the device's last values alone, and one from a regime it was not trained on on another regime's scales,
        which raised false anomalies (as did one naming no regime, judged on regime 0's until stop 36); a missing
        channel is filled in, an extra one ignored. A reading dated
        ``ahead_s`` after it was received (written to the broker) by more than the window's lateness would move the
        device's window ahead, and its next readings would be dropped as late."""
        if ahead_s > self.step_s * self.lateness:
            return (
                f"the reading is dated {ahead_s:,.0f} s after it was received; more than {self.lateness} steps of"
                f" {self.step_s:g} s ahead, it would make the device's next readings too late to judge"
            )
        if not any(channel in values for channel in self.channels):
            known = ", ".join(self.channels)
            return f"the reading has none of the channels the model knows ({known}): {_names(sorted(values))}"
        if regime is None and self.n_regimes > 1:
            return (
                f"the reading names no operating_regime; the model was trained on {self.n_regimes} (0 to"
                f" {self.n_regimes - 1}), each on its own scales, and judging it on one of them raises false warnings"
            )
        if regime is not None and not 0 <= regime < self.n_regimes:
            return f"operating_regime {regime} is not one the model was trained on (0 to {self.n_regimes - 1})"
        r = self.regime_index(regime)
        for j, channel in enumerate(self.channels):
            if channel in values and abs(values[channel] - self.regime_mean[r, j]) > MAX_Z * self.regime_std[r, j]:
                return (
                    f"{channel} reads {values[channel]:g}, more than {MAX_Z:g} standard deviations from its mean in"
                    f" operating regime {r} ({self.regime_mean[r, j]:g}): a faulty reading the model cannot judge"
                )
        return None

    def regime_index(self, regime: int | None) -> int:
        """The regime's row in the scales; None is the only regime of a model trained on one (``unusable`` refuses
        it where there are more)."""
        return min(max(regime or 0, 0), self.n_regimes - 1)

    def normalise(self, values: np.ndarray, regimes: np.ndarray) -> np.ndarray:
        """Per-regime z-score, so that a regime switch is not mistaken for an anomaly."""
        return (values - self.regime_mean[regimes]) / self.regime_std[regimes]

    def hst_features(self, z: np.ndarray) -> dict[str, float]:
        """HalfSpaceTrees wants features in [0, 1]: normalised values clipped to +-4 sigma and rescaled."""
        scaled = np.clip((z + HST_Z_RANGE) / (2 * HST_Z_RANGE), 0.0, 1.0)
        return {c: float(scaled[j]) for j, c in enumerate(self.channels)}

    def save(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        torch.save(self.net.state_dict(), path / "weights.pt")
        with (path / "hst.pkl").open("wb") as handle:
            pickle.dump(self.hst, handle)
        meta = {
            "format": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "channels": list(self.channels),
            "step_s": self.step_s,
            "seq_len": self.seq_len,
            "lateness": self.lateness,
            "hidden": self.net.lstm.hidden_size,
            "rul_head": self.net.rul is not None,
            "regime_mean": self.regime_mean.tolist(),
            "regime_std": self.regime_std.tolist(),
            "resid_std": self.resid_std.tolist(),
            "threshold": self.threshold.to_dict(),
            "hst_threshold": self.hst_threshold,
            "warning": self.warning.to_dict() if self.warning else None,
            "rul_cap": self.rul_cap,
            "horizon_minutes": self.horizon_minutes,
            "metrics": self.metrics,
        }
        (path / "meta.json").write_text(json.dumps(meta, indent=2))
        return path


def load(path: Path) -> SensorModel:
    """Load a folder written by ``SensorModel.save``; refuses an unknown format version."""
    meta = json.loads((path / "meta.json").read_text())
    if meta["format"] != FORMAT_VERSION:
        raise ValueError(f"{path}: artifact format {meta['format']}, this code reads {FORMAT_VERSION}")
    net = SensorLSTM(len(meta["channels"]), meta["hidden"], rul_head=meta["rul_head"])
    net.load_state_dict(torch.load(path / "weights.pt", weights_only=True))
    net.eval()
    with (path / "hst.pkl").open("rb") as handle:
        hst = pickle.load(handle)
    return SensorModel(
        name=meta["name"],
        version=meta["version"],
        channels=tuple(meta["channels"]),
        step_s=meta["step_s"],
        seq_len=meta["seq_len"],
        lateness=meta["lateness"],
        regime_mean=np.array(meta["regime_mean"]),
        regime_std=np.array(meta["regime_std"]),
        resid_std=np.array(meta["resid_std"]),
        net=net,
        threshold=AdaptiveThreshold(**meta["threshold"]),
        hst=hst,
        hst_threshold=meta["hst_threshold"],
        warning=WarningPolicy(**meta["warning"]) if meta["warning"] else None,
        rul_cap=meta["rul_cap"],
        horizon_minutes=meta["horizon_minutes"],
        metrics=meta["metrics"],
    )
