"""Reference profile and streaming window: PSI and KS per feature without keeping raw rows.

The profile is fitted once on a model's training (reference) data: quantile bin edges and counts per
feature. A worker keeps one ``FeatureWindow`` per model, feeds it events with ``learn_one`` and, every so
many events, compares it with the profile; both sides serialise to small JSON-able dicts.
"""

import json
import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from streamsense.models.drift.ks import ks_from_counts
from streamsense.models.drift.psi import bin_counts, psi_from_counts, psi_pvalue, quantile_edges
from streamsense.models.drift.report import DriftReport, FeatureDrift, Unchecked, gated_row, holm_adjusted

PROFILE_VERSION = 1


@dataclass
class FeatureWindow:
    """Running bin counts of the current window, per feature, over the profile's edges."""

    edges: dict[str, list[float]]
    counts: dict[str, list[int]] = field(default_factory=dict)
    n: int = 0

    def __post_init__(self) -> None:
        for name, edges in self.edges.items():
            self.counts.setdefault(name, [0] * (len(edges) + 1))

    def learn_one(self, x: Mapping[str, float]) -> None:
        """Count one event; features missing from ``x`` (or None, NaN, infinite) are skipped for that event, as the
        profile leaves such reference values out."""
        for name, edges in self.edges.items():
            value = x.get(name)
            if value is None or not math.isfinite(value):
                continue
            self.counts[name][bisect_right(edges, float(value))] += 1
        self.n += 1

    def to_dict(self) -> dict[str, Any]:
        return {"edges": self.edges, "counts": self.counts, "n": self.n}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FeatureWindow":
        return cls(edges=dict(data["edges"]), counts=dict(data["counts"]), n=int(data["n"]))


@dataclass
class ReferenceProfile:
    """Per-feature quantile edges and reference counts of one model's reference data; ``unchecked`` holds the
    features it has no edges for, with why (``report.UNCHECKED_REASONS``), so each report can say so."""

    model: str
    edges: dict[str, list[float]]
    counts: dict[str, list[int]]
    n: int
    unchecked: dict[str, Unchecked] = field(default_factory=dict)

    @classmethod
    def fit(cls, model: str, reference: Mapping[str, npt.ArrayLike], n_bins: int = 10) -> "ReferenceProfile":
        """Edges at the reference quantiles (about equal mass per bin) and the reference's own counts.

        A feature with no finite reference value (all NaN: a column the training data never filled) has no quantiles
        to cut: it is left out of the checks as ``unchecked`` instead of failing the whole profile.
        """
        edges, counts, sizes = {}, {}, []
        unchecked: dict[str, Unchecked] = {}
        for name, values in reference.items():
            arr = np.asarray(values, dtype=np.float64)
            arr = arr[np.isfinite(arr)]
            if not arr.size:
                unchecked[name] = "no_reference_values"
                continue
            feature_edges = quantile_edges(arr, n_bins)
            edges[name] = [float(e) for e in feature_edges]
            counts[name] = [int(c) for c in bin_counts(arr, feature_edges)]
            sizes.append(arr.size)
        return cls(model=model, edges=edges, counts=counts, n=max(sizes, default=0), unchecked=unchecked)

    def new_window(self) -> FeatureWindow:
        """An empty current window over this profile's edges."""
        return FeatureWindow(edges={name: list(e) for name, e in self.edges.items()})

    def compare(self, window: FeatureWindow) -> DriftReport:
        """PSI and KS (from counts) per feature that has at least one observation in the window; the profile's
        ``unchecked`` features go into the report's ``unchecked``."""
        features: list[FeatureDrift] = []
        for name, ref_counts in self.counts.items():
            cur_counts = window.counts.get(name)
            if cur_counts is None or sum(cur_counts) == 0:
                continue
            psi = psi_from_counts(ref_counts, cur_counts)
            pvalue = ks_from_counts(ref_counts, cur_counts).pvalue
            features.append(gated_row(name, "psi", psi, psi_pvalue(ref_counts, cur_counts)))
            features.append(gated_row(name, "ks_pvalue", pvalue, pvalue))
        return DriftReport(
            model=self.model,
            reference_size=self.n,
            current_size=window.n,
            features=holm_adjusted(features),
            unchecked=dict(self.unchecked),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": PROFILE_VERSION,
            "model": self.model,
            "edges": self.edges,
            "counts": self.counts,
            "n": self.n,
            "unchecked": self.unchecked,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ReferenceProfile":
        if data.get("version") != PROFILE_VERSION:
            raise ValueError(f"unsupported profile version: {data.get('version')!r}")
        # a profile saved before ``unchecked`` existed has none: it could not be fitted with a feature lacking values
        return cls(
            model=data["model"],
            edges=dict(data["edges"]),
            counts=dict(data["counts"]),
            n=int(data["n"]),
            unchecked=dict(data.get("unchecked", {})),
        )

    def save(self, path: Path) -> None:
        """Write the profile as JSON (kilobytes: it holds edges and counts, not rows)."""
        Path(path).write_text(json.dumps(self.to_dict()))


def load(path: Path) -> ReferenceProfile:
    """Read a profile written by ``ReferenceProfile.save``."""
    return ReferenceProfile.from_dict(json.loads(Path(path).read_text()))
