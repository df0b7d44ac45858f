"""Jensen–Shannon distance between categorical distributions given as ``{category: count}`` dicts.

Base 2 makes it bounded in [0, 1]: 0 for identical distributions, 1 for disjoint supports, which
makes one threshold meaningful across features with different numbers of categories.
"""

from collections.abc import Mapping

import numpy as np

from streamsense.models.drift.psi import DriftLevel, psi_pvalue

JS_WARN = 0.1
JS_ALERT = 0.2


def classify_js(value: float) -> DriftLevel:
    """Level from the distance; 0.1 / 0.2 are conventional cut-offs for categorical features."""
    if value >= JS_ALERT:
        return "alert"
    if value >= JS_WARN:
        return "warn"
    return "ok"


def js_distance(reference: Mapping[str, float], current: Mapping[str, float]) -> float:
    """Square root of the base-2 Jensen–Shannon divergence over the union of categories."""
    categories = sorted(set(reference) | set(current))
    p = np.array([float(reference.get(c, 0.0)) for c in categories])
    q = np.array([float(current.get(c, 0.0)) for c in categories])
    if np.any(p < 0) or np.any(q < 0):
        raise ValueError("category counts must be non-negative")
    if p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("both distributions need a positive total count")
    p, q = p / p.sum(), q / q.sum()
    mid = 0.5 * (p + q)
    divergence = 0.5 * _kl_base2(p, mid) + 0.5 * _kl_base2(q, mid)
    return float(np.sqrt(np.clip(divergence, 0.0, 1.0)))


def _kl_base2(p: np.ndarray, q: np.ndarray) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / q[mask])))


def js_pvalue(reference: Mapping[str, float], current: Mapping[str, float]) -> float:
    """The chi-square test of homogeneity on the category counts, as ``psi_pvalue`` on bins (1.0 with one category
    or an empty side): a distance between small samples of one distribution is noise, as PSI's is."""
    if not sum(reference.values()) or not sum(current.values()):
        return 1.0
    categories = sorted(set(reference) | set(current))
    return psi_pvalue([reference.get(c, 0.0) for c in categories], [current.get(c, 0.0) for c in categories])
