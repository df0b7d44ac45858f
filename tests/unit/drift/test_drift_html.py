import re
from datetime import UTC, datetime, timedelta

from streamsense.models.drift.html import render_html

T0 = datetime(2026, 4, 1, tzinfo=UTC)


def _doc(feature: str, statistic: str, value: float, hour: int, **extra: object) -> dict:
    level = "alert" if value >= 0.25 else "ok"
    return {
        "stream": "payments",
        "model": "fraud",
        "feature": feature,
        "statistic": statistic,
        "value": value,
        "level": level,
        "threshold": 0.25 if level == "alert" else None,
        "crossed": level != "ok",
        "current_to": (T0 + timedelta(hours=hour)).isoformat(),
        **extra,
    }


def _docs() -> list[dict]:
    histogram = {
        "left_edges": [0.0, 0.25, 0.5, 0.75],
        "width": 0.25,
        "reference": [5, 3, 1, 1],
        "current": [1, 1, 3, 5],
    }
    docs = []
    for hour in range(3):
        docs.append(_doc("amount", "psi", 0.05 + 0.15 * hour, hour))
        docs.append(_doc("distance", "psi", 0.01, hour))
        docs.append(_doc("score", "psi", 0.02, hour, score_histogram=histogram))
        docs.append(_doc("performance", "auc_current", 0.9 - 0.05 * hour, hour, accuracy=0.95))
    return docs


def test_page_has_the_three_plots_and_the_crossed_thresholds() -> None:
    html = render_html(_docs())
    assert re.findall(r'<svg class="plot" data-kind="(\w+)"', html) == ["psi", "scores", "performance"]
    assert html.count('class="bar"') == 8
    assert "<td>amount</td><td>psi</td>" in html and "<td>distance</td>" not in html


def test_page_is_self_contained() -> None:
    html = render_html(_docs())
    assert "http" not in html and "<script" not in html and "<link" not in html


def test_page_without_runs_or_labels_says_so() -> None:
    assert "No drift runs" in render_html([])
    unlabelled = [d for d in _docs() if d["feature"] != "performance"]
    assert "No labelled decisions" in render_html(unlabelled)


def test_page_lists_the_features_the_latest_run_could_not_check_and_why() -> None:
    unchecked = {k: v for k, v in _doc("empty", "no_reference_values", 0.0, 2).items() if k != "value"}
    html = render_html([*_docs(), unchecked])
    assert "<h3>Features not checked in the latest run</h3>" in html
    assert "<li>empty: no reference values</li>" in html
    assert "Features not checked" not in render_html(_docs())
