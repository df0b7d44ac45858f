"""``DriftReport``: one model's drift, per feature and statistic, as JSON for logs, topics and dashboards."""

from collections.abc import Mapping
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from streamsense.models.drift.jensen_shannon import JS_ALERT, JS_WARN, classify_js, js_distance
from streamsense.models.drift.ks import KS_PVALUE_ALERT, KS_PVALUE_WARN, classify_ks, ks_from_samples
from streamsense.models.drift.psi import (
    PSI_ALERT,
    PSI_WARN,
    DriftLevel,
    bin_counts,
    psi_from_counts,
    psi_level,
    quantile_edges,
)

_LEVEL_ORDER: dict[DriftLevel, int] = {"ok": 0, "warn": 1, "alert": 2}


class FeatureDrift(BaseModel):
    """One statistic on one feature; ``threshold`` is the one crossed (None when the level is ok)."""

    feature: str
    statistic: str
    value: float
    level: DriftLevel
    threshold: float | None = None


class DriftReport(BaseModel):
    """Drift of one model's inputs (or scores) between a reference window and a current window."""

    model: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    reference_size: int
    current_size: int
    features: list[FeatureDrift] = Field(default_factory=list)

    @property
    def level(self) -> DriftLevel:
        """Worst level over all features and statistics."""
        return max((f.level for f in self.features), key=_LEVEL_ORDER.__getitem__, default="ok")

    def drifted(self, level: DriftLevel = "alert") -> list[str]:
        """Features with at least one statistic at ``level`` or worse, in report order, each once."""
        names = [f.feature for f in self.features if _LEVEL_ORDER[f.level] >= _LEVEL_ORDER[level]]
        return list(dict.fromkeys(names))

    def values(self, statistic: str = "psi") -> dict[str, float]:
        """``{feature: value}`` of one statistic, e.g. to set the ``streamsense_drift_psi`` gauge per feature."""
        return {f.feature: f.value for f in self.features if f.statistic == statistic}

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> "DriftReport":
        return cls.model_validate_json(text)


def crossed_threshold(level: DriftLevel, warn: float, alert: float) -> float | None:
    """The threshold a level means was crossed: the warn one, the alert one, or none."""
    return {"ok": None, "warn": warn, "alert": alert}[level]


def presence_drift(feature: str, reference: tuple[int, int], current: tuple[int, int]) -> FeatureDrift | None:
    """Jensen–Shannon distance between the windows' shares of decisions that hold ``feature`` (each window given as
    (holding it, decisions)): a feature that stops arriving, or starts, is drift the value statistics cannot see,
    since they read only the values there are. None unless the feature is in some decision and missing from some."""
    (ref_has, ref_n), (cur_has, cur_n) = reference, current
    if min(ref_n, cur_n) <= 0 or ref_has + cur_has == 0 or (ref_has == ref_n and cur_has == cur_n):
        return None
    js = js_distance({"present": ref_has, "missing": ref_n - ref_has}, {"present": cur_has, "missing": cur_n - cur_has})
    level = classify_js(js)
    return FeatureDrift(
        feature=feature,
        statistic="missing_js",
        value=js,
        level=level,
        threshold=crossed_threshold(level, JS_WARN, JS_ALERT),
    )


def holm_adjusted(features: list[FeatureDrift]) -> list[FeatureDrift]:
    """``features`` with each ``ks_pvalue`` row's p-value Holm-adjusted for the number of KS rows, and its level read
    from that. A run tests each feature: at 5% a test, with no drift at all, one of 33 features would warn in four
    runs of five (1 - 0.95^33); the adjustment keeps the chance of any false level at the thresholds' own 5% and 1%."""
    tests = sorted((f.value, i) for i, f in enumerate(features) if f.statistic == "ks_pvalue")
    out = list(features)
    running = 0.0
    for rank, (pvalue, i) in enumerate(tests):
        running = max(running, min(1.0, (len(tests) - rank) * pvalue))
        level = classify_ks(running)
        threshold = crossed_threshold(level, KS_PVALUE_WARN, KS_PVALUE_ALERT)
        out[i] = features[i].model_copy(update={"value": running, "level": level, "threshold": threshold})
    return out


def _size(numeric: Mapping[str, npt.ArrayLike], categorical: Mapping[str, Mapping[str, float]]) -> int:
    """Rows in a window: the longest numeric sample, else the largest categorical total."""
    sizes = [len(np.asarray(v)) for v in numeric.values()] + [int(sum(d.values())) for d in categorical.values()]
    return max(sizes, default=0)


def build_report(
    model: str,
    reference: Mapping[str, npt.ArrayLike],
    current: Mapping[str, npt.ArrayLike],
    categorical_reference: Mapping[str, Mapping[str, float]] | None = None,
    categorical_current: Mapping[str, Mapping[str, float]] | None = None,
) -> DriftReport:
    """PSI and KS for each numeric feature, Jensen–Shannon for each categorical one (given as count dicts). A
    numeric value that is not finite (NaN: a missing cell) is missing: PSI and KS read the others, and a change in
    the share missing is a row of its own (``presence_drift``)."""
    if set(reference) != set(current):
        raise ValueError("reference and current must have the same numeric features")
    cat_ref = categorical_reference or {}
    cat_cur = categorical_current or {}
    if set(cat_ref) != set(cat_cur):
        raise ValueError("reference and current must have the same categorical features")
    features: list[FeatureDrift] = []
    for name in reference:
        ref, cur = np.asarray(reference[name], dtype=np.float64), np.asarray(current[name], dtype=np.float64)
        ref_values, cur_values = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
        presence = presence_drift(name, (ref_values.size, ref.size), (cur_values.size, cur.size))
        if presence is not None:
            features.append(presence)
        if not (ref_values.size and cur_values.size):
            continue
        edges = quantile_edges(ref_values)
        ref_counts, cur_counts = bin_counts(ref_values, edges), bin_counts(cur_values, edges)
        psi = psi_from_counts(ref_counts, cur_counts)
        level = psi_level(psi, ref_counts, cur_counts)
        features.append(
            FeatureDrift(
                feature=name,
                statistic="psi",
                value=psi,
                level=level,
                threshold=crossed_threshold(level, PSI_WARN, PSI_ALERT),
            )
        )
        ks = ks_from_samples(ref_values, cur_values)
        ks_level = classify_ks(ks.pvalue)
        features.append(
            FeatureDrift(
                feature=name,
                statistic="ks_pvalue",
                value=ks.pvalue,
                level=ks_level,
                threshold=crossed_threshold(ks_level, KS_PVALUE_WARN, KS_PVALUE_ALERT),
            )
        )
    for name in cat_ref:
        js = js_distance(cat_ref[name], cat_cur[name])
        js_level = classify_js(js)
        features.append(
            FeatureDrift(
                feature=name,
                statistic="js_distance",
                value=js,
                level=js_level,
                threshold=crossed_threshold(js_level, JS_WARN, JS_ALERT),
            )
        )
    return DriftReport(
        model=model,
        reference_size=_size(reference, cat_ref),
        current_size=_size(current, cat_cur),
        features=holm_adjusted(features),
    )
