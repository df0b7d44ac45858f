from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from streamsense.models.drift.run import Window
from streamsense.settings import Settings
from streamsense.streams import drift_job
from streamsense.streams.drift_query import Plan, WindowCounts

T0 = datetime(2026, 4, 1, tzinfo=UTC)
REFERENCE = Window(start=T0, end=T0 + timedelta(hours=1))
CURRENT = Window(start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2))


def _counts(n: int, present: dict[str, int]) -> WindowCounts:
    return WindowCounts(
        n=n,
        psi={"amount": [n // 2, n - n // 2]},
        ks={"amount": [n // 2, n - n // 2]},
        terms={},
        score=[n // 20] * 20,
        outcome={"approve": n - 10, "decline": 10},
        present=present,
    )


class _Reader:
    """What ``compare_model`` asks of ``DecisionWindowReader``: counts per window, no labels, no sample."""

    es = None

    def __init__(self, current_present: dict[str, int]) -> None:
        self.windows = {
            REFERENCE.start: _counts(200, {"amount": 200, "new_field": 0, "other_models_field": 0}),
            CURRENT.start: _counts(200, {"amount": 200, **current_present}),
        }

    def counts(self, index: str, model: str, window: Window, p: Plan) -> WindowCounts:
        return self.windows[window.start]

    def errors(self, *args: Any) -> tuple[list[float], int]:
        return [], 0

    def performance(self, *args: Any) -> None:
        return None

    def sample(self, index: str, model: str, window: Window, names: list[str], size: int, seed: int = 0) -> Any:
        return np.empty((0, len(names)))


def test_a_feature_only_the_current_window_holds_is_reported_unchecked_for_lack_of_reference_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fields = ["amount", "new_field", "other_models_field"]
    monkeypatch.setattr(drift_job, "feature_fields", lambda es, index: (fields, []))
    monkeypatch.setattr(
        drift_job, "plan", lambda *args: Plan({"amount": [0.0]}, {"amount": [0.0]}, [], 0.0, 0.05, fields=fields)
    )
    reader = _Reader({"new_field": 150, "other_models_field": 0})
    run = drift_job.compare_model(reader, "payments", "fraud", REFERENCE, CURRENT, Settings(drift_min_docs=100))
    assert run is not None
    assert run.report.unchecked == {"new_field": "no_reference_values"}
    assert ("no_reference_values", False) in {(d["statistic"], d["crossed"]) for _, d in run.rows()}
