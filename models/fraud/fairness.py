"""Group fairness of fraud decisions from plain ``(group, y_true, y_pred)`` rows, whatever their source.

Per group: alert rate, true-positive rate, false-positive rate and precision. Across groups: the demographic parity
difference (max - min alert rate) and the equal-opportunity difference (max - min TPR). A rate with an empty
denominator is ``None`` and is left out of the differences.
"""

from collections.abc import Iterable
from typing import Any


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def confusion_counts(rows: Iterable[tuple[str, bool, bool]]) -> dict[str, list[int]]:
    """``[tn, fp, fn, tp]`` per group."""
    counts: dict[str, list[int]] = {}
    for group, y_true, y_pred in rows:
        c = counts.setdefault(str(group), [0, 0, 0, 0])
        c[2 * int(bool(y_true)) + int(bool(y_pred))] += 1
    return counts


def group_rates(counts: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
    """Rates per group from ``[tn, fp, fn, tp]`` counts (from rows, or from an Elasticsearch aggregation)."""
    out: dict[str, dict[str, Any]] = {}
    for group in sorted(counts):
        tn, fp, fn, tp = counts[group]
        n = tn + fp + fn + tp
        out[group] = {
            "n": n,
            "positives": tp + fn,
            "alert_rate": _ratio(tp + fp, n),
            "tpr": _ratio(tp, tp + fn),
            "fpr": _ratio(fp, fp + tn),
            "precision": _ratio(tp, tp + fp),
        }
    return out


def _spread(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) - min(known) if len(known) >= 2 else None


def fairness_report(rows: Iterable[tuple[str, bool, bool]]) -> dict[str, Any]:
    """Per-group rates plus demographic parity and equal-opportunity differences."""
    return fairness_from_counts(confusion_counts(rows))


def fairness_from_counts(counts: dict[str, list[int]]) -> dict[str, Any]:
    """``fairness_report`` from ``[tn, fp, fn, tp]`` per group."""
    groups = group_rates(counts)
    return {
        "groups": groups,
        "demographic_parity_difference": _spread([g["alert_rate"] for g in groups.values()]),
        "equal_opportunity_difference": _spread([g["tpr"] for g in groups.values()]),
    }
