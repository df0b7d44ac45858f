"""``DriftReport``: one model's drift, per feature and statistic, as JSON for logs, topics and dashboards."""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from streamsense.models.drift.jensen_shannon import JS_ALERT, JS_WARN, classify_js, js_distance, js_pvalue
from streamsense.models.drift.ks import KS_PVALUE_ALERT, KS_PVALUE_WARN, classify_ks, ks_from_samples
from streamsense.models.drift.psi import (
    PSI_ALERT,
    PSI_PVALUE,
    PSI_WARN,
    DriftLevel,
    bin_counts,
    classify_psi,
    psi_from_counts,
    psi_pvalue,
    quantile_edges,
)

_LEVEL_ORDER: dict[DriftLevel, int] = {"ok": 0, "warn": 1, "alert": 2}

Unchecked = Literal["no_reference_values"]
UNCHECKED_REASONS: dict[Unchecked, str] = {"no_reference_values": "no reference values"}
"""Why a feature is left out of a report's checks, by the code its drift-index row carries as ``statistic``."""


class FeatureDrift(BaseModel):
    """One statistic on one feature; ``threshold`` is the one crossed (None when the level is ok). ``pvalue``, for
    the tested statistics (``TESTED``), is the chance of a value as far from the reference between two samples of
    one distribution, adjusted for the report's other rows of that statistic (``holm_adjusted``)."""

    feature: str
    statistic: str
    value: float
    level: DriftLevel
    threshold: float | None = None
    pvalue: float | None = None


TESTED: dict[str, tuple[Callable[[float], DriftLevel], float, float]] = {
    "psi": (classify_psi, PSI_WARN, PSI_ALERT),
    "js_distance": (classify_js, JS_WARN, JS_ALERT),
    "missing_js": (classify_js, JS_WARN, JS_ALERT),
    "ks_pvalue": (classify_ks, KS_PVALUE_WARN, KS_PVALUE_ALERT),
}
"""Statistics with a test of "no drift": each one's level (from its value; KS's from its p-value) counts only where
the p-value is under ``PSI_PVALUE`` (KS's own thresholds are p-values)."""


def gated_row(feature: str, statistic: str, value: float, pvalue: float) -> FeatureDrift:
    """A row of a ``TESTED`` statistic, its level gated by ``pvalue``."""
    classify, warn, alert = TESTED[statistic]
    if statistic == "ks_pvalue":
        value = pvalue
        level = classify(pvalue)
    else:
        level = classify(value) if pvalue < PSI_PVALUE else "ok"
    return FeatureDrift(
        feature=feature,
        statistic=statistic,
        value=value,
        level=level,
        threshold=crossed_threshold(level, warn, alert),
        pvalue=pvalue,
    )


class DriftReport(BaseModel):
    """Drift of one model's inputs (or scores) between a reference window and a current window."""

    model: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    reference_size: int
    current_size: int
    features: list[FeatureDrift] = Field(default_factory=list)
    unchecked: dict[str, Unchecked] = Field(
        default_factory=dict,
        description="features left out of every check, with why (UNCHECKED_REASONS): a feature with no reference "
        "value has nothing to compare the current window with, and is listed rather than silently unwatched",
    )

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
    ref = {"present": ref_has, "missing": ref_n - ref_has}
    cur = {"present": cur_has, "missing": cur_n - cur_has}
    return gated_row(feature, "missing_js", js_distance(ref, cur), js_pvalue(ref, cur))


def holm_adjusted(features: list[FeatureDrift]) -> list[FeatureDrift]:
    """``features`` with the p-values of each ``TESTED`` statistic Holm-adjusted for the report's number of rows of
    that statistic, and their levels read again. A run tests every feature: at 5% a test, with no drift at all, one
    of 33 features would warn in four runs of five (1 - 0.95^33); the adjustment keeps the chance of any false level
    of a statistic near its test's own."""
    out = list(features)
    for statistic in TESTED:
        tests = sorted(
            (f.pvalue, i) for i, f in enumerate(features) if f.statistic == statistic and f.pvalue is not None
        )
        running = 0.0
        for rank, (pvalue, i) in enumerate(tests):
            running = max(running, min(1.0, (len(tests) - rank) * pvalue))
            out[i] = gated_row(features[i].feature, statistic, features[i].value, running)
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
    the share missing is a row of its own (``presence_drift``); a numeric feature with no finite reference value is
    left out of PSI and KS and listed in ``unchecked``."""
    if set(reference) != set(current):
        raise ValueError("reference and current must have the same numeric features")
    cat_ref = categorical_reference or {}
    cat_cur = categorical_current or {}
    if set(cat_ref) != set(cat_cur):
        raise ValueError("reference and current must have the same categorical features")
    features: list[FeatureDrift] = []
    unchecked: dict[str, Unchecked] = {}
    for name in reference:
        ref, cur = np.asarray(reference[name], dtype=np.float64), np.asarray(current[name], dtype=np.float64)
        ref_values, cur_values = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
        presence = presence_drift(name, (ref_values.size, ref.size), (cur_values.size, cur.size))
        if presence is not None:
            features.append(presence)
        if not ref_values.size:
            unchecked[name] = "no_reference_values"
            continue
        if not cur_values.size:
            continue
        edges = quantile_edges(ref_values)
        ref_counts, cur_counts = bin_counts(ref_values, edges), bin_counts(cur_values, edges)
        psi = psi_from_counts(ref_counts, cur_counts)
        features.append(gated_row(name, "psi", psi, psi_pvalue(ref_counts, cur_counts)))
        ks = ks_from_samples(ref_values, cur_values)
        features.append(gated_row(name, "ks_pvalue", ks.pvalue, ks.pvalue))
    for name in cat_ref:
        js = js_distance(cat_ref[name], cat_cur[name])
        features.append(gated_row(name, "js_distance", js, js_pvalue(cat_ref[name], cat_cur[name])))
    return DriftReport(
        model=model,
        reference_size=_size(reference, cat_ref),
        current_size=_size(current, cat_cur),
        features=holm_adjusted(features),
        unchecked=unchecked,
    )
