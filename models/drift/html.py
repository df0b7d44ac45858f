"""Self-contained HTML drift report: inline SVG plots drawn from drift-index documents, no external URLs.

Hand-written SVG keeps the page one file that opens anywhere (no plotting library, no scripts, no CDN):
per stream and model, PSI per feature over time, reference vs current score distributions of the latest
run, and performance (AUC) over time, then a table of the thresholds the latest run crossed and the features it
could not check (with why: no reference values, say), which would otherwise look like features that did not drift.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from streamsense.models.drift.psi import PSI_ALERT, PSI_WARN
from streamsense.models.drift.report import UNCHECKED_REASONS

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 220, 28, 36
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
MAX_LINES = 8
PSI_CAP = 1.0


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _label_time(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%m-%d %H:%M")


def _scale(lo: float, hi: float, out_lo: float, out_hi: float) -> Any:
    span = (hi - lo) or 1.0
    return lambda v: out_lo + (v - lo) / span * (out_hi - out_lo)


def _frame(title: str, kind: str, body: list[str], y_lo: float, y_hi: float) -> str:
    y = _scale(y_lo, y_hi, HEIGHT - BOTTOM, TOP)
    ticks = [y_lo + (y_hi - y_lo) * i / 4 for i in range(5)]
    axis = [f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#333"/>']
    axis.append(f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="#333"/>')
    axis += [f'<text x="{LEFT - 6}" y="{y(t) + 4:.1f}" text-anchor="end" font-size="10">{t:.3g}</text>' for t in ticks]
    return (
        f'<svg class="plot" data-kind="{kind}" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">'
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>'
        + "".join(axis + body)
        + "</svg>"
    )


def _legend(row: int, name: str, colour: str) -> str:
    return (
        f'<text x="{WIDTH - RIGHT + 8}" y="{TOP + 12 + 14 * row}" font-size="11" fill="{colour}">{escape(name)}</text>'
    )


def line_chart(
    title: str,
    kind: str,
    series: Mapping[str, Sequence[tuple[float, float]]],
    hlines: Sequence[float] = (),
    y_max: float | None = None,
) -> str:
    """Lines (with point markers) of (unix time, value) per named series, with dashed reference levels.

    With ``y_max``, larger values are drawn at the top edge so that one extreme series does not flatten the rest.
    """
    if y_max is not None:
        series = {name: [(t, min(v, y_max)) for t, v in pts] for name, pts in series.items()}
    points = [p for pts in series.values() for p in pts]
    xs, ys = [p[0] for p in points], [p[1] for p in points] + list(hlines)
    x_lo, x_hi = min(xs), max(xs)
    if x_lo == x_hi:
        x_lo, x_hi = x_lo - 1800, x_hi + 1800
    y_lo, y_hi = min(0.0, min(ys)), max(ys) * 1.1 or 1.0
    x = _scale(x_lo, x_hi, LEFT, WIDTH - RIGHT)
    y = _scale(y_lo, y_hi, HEIGHT - BOTTOM, TOP)
    body = []
    for level in hlines:
        body.append(
            f'<line x1="{LEFT}" y1="{y(level):.1f}" x2="{WIDTH - RIGHT}" y2="{y(level):.1f}" '
            f'stroke="#999" stroke-dasharray="4 3"/>'
        )
    for ts in (x_lo, x_hi):
        anchor = "start" if ts == x_lo else "end"
        body.append(
            f'<text x="{x(ts):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="{anchor}" font-size="10">'
            f"{_label_time(ts)}</text>"
        )
    for i, (name, pts) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        ordered = sorted(pts)
        coords = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in ordered)
        body.append(f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>')
        body += [f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="3" fill="{colour}"/>' for a, b in ordered]
        body.append(_legend(i, name, colour))
    return _frame(title, kind, body, y_lo, y_hi)


def bar_chart(
    title: str, kind: str, left_edges: Sequence[float], width: float, bars: Mapping[str, Sequence[int]]
) -> str:
    """Side-by-side proportions per bin for each named histogram (reference, current)."""
    shares = {name: [c / (sum(counts) or 1) for c in counts] for name, counts in bars.items()}
    y_hi = max(max(v) for v in shares.values()) * 1.1 or 1.0
    n_bins, n_sets = len(left_edges), len(bars)
    slot = (WIDTH - RIGHT - LEFT) / max(n_bins, 1)
    y = _scale(0.0, y_hi, HEIGHT - BOTTOM, TOP)
    body = []
    for j, (name, values) in enumerate(shares.items()):
        colour = COLOURS[j % len(COLOURS)]
        for i, share in enumerate(values):
            bx = LEFT + i * slot + j * slot / n_sets
            body.append(
                f'<rect class="bar" x="{bx:.1f}" y="{y(share):.1f}" width="{slot / n_sets - 1:.1f}" '
                f'height="{y(0) - y(share):.1f}" fill="{colour}"/>'
            )
        body.append(_legend(j, name, colour))
    for i in (0, n_bins):
        edge = left_edges[0] + i * width
        body.append(
            f'<text x="{LEFT + i * slot:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="10">'
            f"{edge:.3g}</text>"
        )
    return _frame(title, kind, body, 0.0, y_hi)


def _psi_series(docs: list[dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for d in docs:
        if d["statistic"] == "psi":
            series[d["feature"]].append((_ts(d["current_to"]), float(d["value"])))
    worst = sorted(series, key=lambda f: max(v for _, v in series[f]), reverse=True)[:MAX_LINES]
    return {f: series[f] for f in worst}


def _run_key(doc: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(doc.get(k)) for k in ("reference_from", "reference_to", "current_from", "current_to"))


def _section(stream: str, model: str, docs: list[dict[str, Any]]) -> str:
    parts = [f"<section><h2>{escape(stream)} · {escape(model)}</h2>"]
    psi = _psi_series(docs)
    if psi:
        title = (
            f"PSI per feature over time (the {len(psi)} highest, cut at {PSI_CAP}; dashed: {PSI_WARN} / {PSI_ALERT})"
        )
        parts.append(line_chart(title, "psi", psi, hlines=(PSI_WARN, PSI_ALERT), y_max=PSI_CAP))
    newest = max(docs, key=lambda d: (str(d.get("created_at", "")), d["current_to"]))
    latest = [d for d in docs if _run_key(d) == _run_key(newest)]
    latest_to = newest["current_to"]
    histogram = next((d["score_histogram"] for d in latest if d.get("score_histogram")), None)
    if histogram:
        bars = {"reference": histogram["reference"], "current": histogram["current"]}
        title = "Score distribution, reference vs current window (latest run)"
        parts.append(bar_chart(title, "scores", histogram["left_edges"], histogram["width"], bars))
    perf: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for d in docs:
        if d["statistic"] == "auc_current":
            perf["AUC"].append((_ts(d["current_to"]), float(d["value"])))
            if d.get("accuracy") is not None:
                perf["accuracy"].append((_ts(d["current_to"]), float(d["accuracy"])))
    if perf:
        parts.append(line_chart("Performance over time (labelled decisions)", "performance", perf))
    else:
        parts.append("<p>No labelled decisions in these runs yet: no performance plot.</p>")
    crossed = sorted((d for d in latest if d.get("crossed")), key=lambda d: (d["level"] != "alert", d["feature"]))
    rows = "".join(
        f"<tr><td>{escape(d['feature'])}</td><td>{escape(d['statistic'])}</td><td>{float(d['value']):.4g}</td>"
        f"<td class='{escape(d['level'])}'>{escape(d['level'])}</td><td>{d.get('threshold')}</td></tr>"
        for d in crossed
    )
    parts.append(
        f"<h3>Thresholds crossed in the latest run (current window to {escape(latest_to)})</h3>"
        + (
            f"<table><tr><th>feature</th><th>statistic</th><th>value</th><th>level</th><th>threshold</th></tr>{rows}</table>"
            if rows
            else "<p>None.</p>"
        )
    )
    unchecked = sorted(
        (d["feature"], UNCHECKED_REASONS[d["statistic"]]) for d in latest if d["statistic"] in UNCHECKED_REASONS
    )
    if unchecked:
        items = "".join(f"<li>{escape(feature)}: {escape(reason)}</li>" for feature, reason in unchecked)
        parts.append(f"<h3>Features not checked in the latest run</h3><ul class='unchecked'>{items}</ul>")
    return "".join(parts) + "</section>"


def render_html(docs: Iterable[Mapping[str, Any]], title: str = "StreamSense drift report") -> str:
    """The whole page for drift-index documents (``_source`` dicts), one section per stream and model."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for d in docs:
        groups[(d["stream"], d["model"])].append(dict(d))
    sections = [_section(s, m, groups[(s, m)]) for s, m in sorted(groups)] or ["<p>No drift runs in this period.</p>"]
    style = (
        "body{font-family:sans-serif;margin:24px;color:#222}svg{display:block;margin:12px 0}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}"
        ".alert{color:#b00;font-weight:bold}.warn{color:#a60}"
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{style}</style></head><body><h1>{escape(title)}</h1>{''.join(sections)}</body></html>"
    )
