"""``DriftRun``: one model's drift between two time windows, as published on ``drift.reports`` and indexed.

The Kafka message is the whole run (one JSON object per stream and model); the drift index holds one
document per feature and statistic (``rows``), which is what dashboards chart over time. Document ids
are a hash of what identifies a row, so rerunning a job over the same windows overwrites, never duplicates.
"""

import hashlib
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from streamsense.models.drift.report import DriftReport


class Window(BaseModel):
    """A half-open time window [start, end) of decision event times."""

    start: datetime
    end: datetime


class ScoreHistogram(BaseModel):
    """Fixed-width score bins (left edges plus the width) with the reference and current counts, for plots."""

    left_edges: list[float]
    width: float
    reference: list[int]
    current: list[int]


class PerformancePoint(BaseModel):
    """Labelled decisions of one window: how many, how many positive, ROC AUC (None with one class), accuracy."""

    n: int
    positives: int
    auc: float | None
    accuracy: float | None


class DriftRun(BaseModel):
    """Everything one drift job found for one stream and model."""

    stream: str
    model: str
    reference: Window
    current: Window
    report: DriftReport
    score_histogram: ScoreHistogram | None = None
    reference_performance: PerformancePoint | None = None
    current_performance: PerformancePoint | None = None
    adversarial_top_features: list[str] = Field(default_factory=list)
    error_detectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="ADWIN and the always-alarm baseline over the labelled error stream"
    )

    @property
    def crossed(self) -> list[str]:
        """``feature/statistic`` of every row that crossed a threshold, worst first: the line an alert carries."""
        order = {"alert": 0, "warn": 1}
        hits = [f for f in self.report.features if f.level != "ok"]
        return [f"{f.feature}/{f.statistic}" for f in sorted(hits, key=lambda f: order[f.level])]

    def row_id(self, feature: str, statistic: str) -> str:
        """Deterministic document id of one row of this run."""
        parts = [self.stream, self.model, feature, statistic]
        # in UTC: the same instants given with another offset are the same run, which a rerun overwrites
        windows = (self.reference.start, self.reference.end, self.current.start, self.current.end)
        parts += [w.astimezone(UTC).isoformat() for w in windows]
        return hashlib.sha1("|".join(parts).encode()).hexdigest()[:24]

    def rows(self) -> list[tuple[str, dict[str, Any]]]:
        """``(doc_id, document)`` per feature and statistic, shaped for the strict drift index template; a feature the
        report left unchecked gets a row whose statistic is the reason (``report.UNCHECKED_REASONS``)."""
        base = {
            "stream": self.stream,
            "model": self.model,
            "created_at": self.report.created_at.isoformat(),
            "reference_from": self.reference.start.isoformat(),
            "reference_to": self.reference.end.isoformat(),
            "current_from": self.current.start.isoformat(),
            "current_to": self.current.end.isoformat(),
            "reference_size": self.report.reference_size,
            "current_size": self.report.current_size,
        }
        out = []
        for f in self.report.features:
            doc = {
                **base,
                "feature": f.feature,
                "statistic": f.statistic,
                "value": f.value,
                "level": f.level,
                "threshold": f.threshold,
                "pvalue": f.pvalue,
                "crossed": f.level != "ok",
            }
            if f.feature == "score" and f.statistic == "psi" and self.score_histogram is not None:
                doc["score_histogram"] = self.score_histogram.model_dump()
            if f.statistic == "adversarial_auc":
                doc["top_features"] = self.adversarial_top_features
            out.append((self.row_id(f.feature, f.statistic), doc))
        for feature, reason in self.report.unchecked.items():
            # the reason's code as the statistic, no value: the strict mapping has no field for a reason's text
            doc = {**base, "feature": feature, "statistic": reason, "level": "ok", "crossed": False}
            out.append((self.row_id(feature, reason), doc))
        for name, point in (("reference", self.reference_performance), ("current", self.current_performance)):
            if point is None or point.auc is None:
                continue
            doc = {**base, "feature": "performance", "statistic": f"auc_{name}", "value": point.auc, "level": "ok"}
            doc |= {"crossed": False, "labelled": point.n, "accuracy": point.accuracy}
            out.append((self.row_id("performance", f"auc_{name}"), doc))
        return out
