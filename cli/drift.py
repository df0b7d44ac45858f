"""Drift commands: ``drift run`` and ``drift report`` on the decision log, plus offline evaluations and CSV reports."""

import csv
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import numpy.typing as npt
import typer

from streamsense.cli.checks import bounded, number_list
from streamsense.cli.groups import eval_app, report_app
from streamsense.cli.main import app
from streamsense.cli.times import DURATION, parse_duration, parse_time
from streamsense.models.drift.calibration import adversarial_calibration, statistic_calibration
from streamsense.models.drift.detector_evaluation import compare_detectors
from streamsense.models.drift.detectors import AdwinDetector, AlwaysAlarmDetector
from streamsense.models.drift.html import render_html
from streamsense.models.drift.report import build_report
from streamsense.models.drift.run import Window
from streamsense.settings import get_settings
from streamsense.streams.connections import elasticsearch_options
from streamsense.streams.topics import STREAMS

if TYPE_CHECKING:  # the client is imported where a command needs it: every command line loads this module
    from elasticsearch import Elasticsearch

# ``cli.main`` imports this module after creating ``app`` (COMMAND_MODULES), so the group registers itself here.
drift_app = typer.Typer(help="Drift of the decision log in Elasticsearch: run the job, render the report.")
app.add_typer(drift_app, name="drift")
REPORT_ROWS = 10_000
"""The most drift rows one report reads: the newest, when the period holds more."""


@eval_app.command("drift-detectors")
def eval_drift_detectors(
    runs: int = typer.Option(20, min=1, help="seeded streams per scenario"),
    n: int = typer.Option(4000, min=1, help="events per stream"),
    change_point: int = typer.Option(2000, min=0, help="index of the first event after the change (at most --n)"),
    p_before: float = typer.Option(0.1, help="error rate before the change", callback=bounded(0, 1)),
    p_after: str = typer.Option("0.15,0.2,0.3,0.5", help="error rates after the change, comma-separated"),
    delta: float = typer.Option(0.002, help="ADWIN confidence parameter", callback=bounded(0, 1, low_open=True)),
    seed: int = typer.Option(0, min=0),
) -> None:
    """ADWIN vs always-alarm on Bernoulli error streams: delay and false alarms per change size, plus no change."""
    if change_point > n:
        raise typer.BadParameter(f"the change must lie within the stream of {n} events", param_hint="--change-point")
    after = number_list(p_after, "--p-after", 0, 1)
    factories = {"adwin": lambda: AdwinDetector(delta=delta), "always_alarm": AlwaysAlarmDetector}
    scenarios = {
        f"abrupt_{p_before}_to_{p}": compare_detectors(factories, runs, n, change_point, p_before, p, seed)
        for p in after
    }
    scenarios["stationary"] = compare_detectors(factories, runs, n, n, p_before, p_before, seed)
    config = {"runs": runs, "n": n, "change_point": change_point, "p_before": p_before, "delta": delta, "seed": seed}
    typer.echo(json.dumps({"config": config, "scenarios": scenarios}, indent=2))


@eval_app.command("drift-thresholds")
def eval_drift_thresholds(
    sizes: str = typer.Option("200,1000,5000", help="window sizes (rows per window), comma-separated"),
    shifts: str = typer.Option("0,0.1,0.25,0.5,1", help="mean shifts in standard deviations, comma-separated"),
    trials: int = typer.Option(100, min=1, help="seeded trials per cell"),
    adversarial_n: int = typer.Option(
        500, min=3, help="rows per window for adversarial validation (its three folds need three of each)"
    ),
    adversarial_trials: int = typer.Option(5, min=1, help="seeded trials per shift for adversarial validation"),
    seed: int = typer.Option(0, min=0),
) -> None:
    """False-alarm rate (shift 0) and power of the PSI, KS and adversarial thresholds on synthetic shifts."""
    size_list = number_list(sizes, "--sizes", 1)
    if any(size != int(size) for size in size_list):
        raise typer.BadParameter("window sizes are whole numbers of rows", param_hint="--sizes")
    shift_list = number_list(shifts, "--shifts", 0)
    result = {
        "statistics": statistic_calibration([int(s) for s in size_list], shift_list, trials, seed),
        "adversarial": adversarial_calibration(adversarial_n, shift_list, adversarial_trials, seed=seed),
    }
    typer.echo(json.dumps(result, indent=2))


def _read_columns(path: Path) -> dict[str, list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:  # a spreadsheet's byte-order mark is not a column
        rows = list(csv.DictReader(handle))
    if not rows:
        raise typer.BadParameter(f"{path} has no data rows")
    return {name: [row[name] for row in rows] for name in rows[0]}


def _numbers(path: Path, column: str, cells: list[str]) -> npt.NDArray[np.float64]:
    """A numeric column; an empty cell is a missing value (NaN), which the report counts apart."""
    values = []
    for cell in cells:
        try:
            values.append(float(cell) if cell.strip() else np.nan)
        except ValueError:
            raise typer.BadParameter(
                f"{path}: column {column!r} holds {cell!r}, not a number; leave a missing value empty, or name the"
                " column in --categorical"
            ) from None
    return np.array(values, dtype=np.float64)


@report_app.command("drift")
def report_drift(
    reference: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="CSV with a header: the reference window")
    ],
    current: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="CSV with the same header: the current window")
    ],
    model: str = typer.Option(..., help="model name for the report"),
    categorical: str = typer.Option("", help="comma-separated categorical columns (Jensen–Shannon); others numeric"),
) -> None:
    """Print the DriftReport (JSON) of two CSV windows: PSI and KS per numeric column, JS per categorical one."""
    ref_cols, cur_cols = _read_columns(reference), _read_columns(current)
    if set(ref_cols) != set(cur_cols):
        raise typer.BadParameter("the two CSV files must have the same columns")
    cat_names = {c.strip() for c in categorical.split(",") if c.strip()}
    if unknown := sorted(cat_names - set(ref_cols)):
        raise typer.BadParameter(f"--categorical names no column of the files: {', '.join(unknown)}")
    numeric = [c for c in ref_cols if c not in cat_names]
    report = build_report(
        model,
        {c: _numbers(reference, c, ref_cols[c]) for c in numeric},
        {c: _numbers(current, c, cur_cols[c]) for c in numeric},
        {c: dict(Counter(ref_cols[c])) for c in cat_names},
        {c: dict(Counter(cur_cols[c])) for c in cat_names},
    )
    typer.echo(report.model_dump_json(indent=2))


def _windows(
    window: str | None,
    reference_from: str | None,
    reference_to: str | None,
    current_from: str | None,
    current_to: str | None,
) -> tuple[Window, Window] | timedelta:
    """The four bounds given, else the length of trailing windows (whose end ``--until`` sets per stream)."""
    now = datetime.now(UTC)
    bounds = [parse_time(t, now) for t in (reference_from, reference_to, current_from, current_to)]
    if all(b is not None for b in bounds):
        if bounds[0] >= bounds[1] or bounds[2] >= bounds[3]:
            raise typer.BadParameter("each window must start before it ends")
        return Window(start=bounds[0], end=bounds[1]), Window(start=bounds[2], end=bounds[3])
    if any(b is not None for b in bounds):
        raise typer.BadParameter("give all four of --reference-from/--reference-to/--current-from/--current-to")
    length = parse_duration(window) if window else timedelta(seconds=get_settings().drift_window_s)
    if length <= timedelta(0):
        raise typer.BadParameter(f"the window must be longer than 0, not {window!r}")
    return length


def _end(until: str, stream: str, now: datetime, es: "Elasticsearch") -> datetime | None:
    """Where ``stream``'s trailing windows end: now, an ISO time, or just after its newest decision (None when it has
    none)."""
    if until != "newest":
        return parse_time(until, now)
    from streamsense.streams.drift_query import newest_end

    return newest_end(es, STREAMS[stream].index)


@drift_app.command("run")
def drift_run(
    stream: list[str] = typer.Option(None, help="stream(s) to check; default all"),
    window: str = typer.Option(
        None,
        help="current = the last WINDOW, reference = the WINDOW before (default: STREAMSENSE_DRIFT_WINDOW_S)",
    ),
    reference_from: str = typer.Option(None, help="ISO time or now-7d; with the three others instead of --window"),
    reference_to: str = typer.Option(None),
    current_from: str = typer.Option(None),
    current_to: str = typer.Option(None),
    until: str = typer.Option(
        None,
        help="where --window's current window ends: now, newest (each stream's newest decision) or an ISO time"
        " (default: STREAMSENSE_DRIFT_WINDOWS_END)",
    ),
    publish_results: bool = typer.Option(True, "--publish/--no-publish", help="send to drift.reports and the index"),
) -> None:
    """Compare a reference and a current window of decisions per model and feature; print one JSON line per model.
    Windows are in event time (the decisions' ``event_time``): the simulators date their traffic in 2026-01 (sensors)
    and from 2026-04-01 (payments, chat), so for `demo` or `produce` traffic give `--until newest` or the four
    bounds."""
    from elasticsearch import Elasticsearch

    from streamsense.streams.drift_job import publish, run_drift, trailing_windows

    settings = get_settings()
    windows = _windows(window, reference_from, reference_to, current_from, current_to)
    if isinstance(windows, tuple) and until is not None:
        raise typer.BadParameter("--until sets where --window ends; the four bounds need none")
    now = datetime.now(UTC)
    # one client for the whole run: finding each stream's end, comparing its windows and publishing
    with Elasticsearch(**elasticsearch_options(settings), request_timeout=60) as es:
        for name in stream or list(STREAMS):
            if name not in STREAMS:
                raise typer.BadParameter(f"unknown stream {name!r}; known: {', '.join(STREAMS)}")
            if isinstance(windows, tuple):
                reference, current = windows
            elif (end := _end(until or settings.drift_windows_end, name, now, es)) is None:
                typer.echo(json.dumps({"stream": name, "level": None, "note": "no decisions logged"}))
                continue
            else:
                reference, current = trailing_windows(windows.total_seconds(), end)
            runs = run_drift(settings, name, reference, current, es)
            if publish_results:
                publish(settings, runs, es)
            for run in runs:
                summary = {"stream": run.stream, "model": run.model, "level": run.report.level, "crossed": run.crossed}
                summary |= {"reference_size": run.report.reference_size, "current_size": run.report.current_size}
                summary["psi"] = {k: round(v, 4) for k, v in run.report.values("psi").items()}
                summary["adversarial_auc"] = run.report.values("adversarial_auc").get("multivariate")
                typer.echo(json.dumps(summary))
            if not runs:
                typer.echo(json.dumps({"stream": name, "level": None, "note": "too few decisions in a window"}))


@drift_app.command("report")
def drift_report(
    since: str = typer.Option(
        "7d", help="runs whose current window ended in the last SINCE (e.g. 24h, 7d) or an ISO time"
    ),
    out: Path = typer.Option(Path("drift-report.html"), help="where to write the HTML page"),
    stream: str = typer.Option(None, help="only this stream"),
) -> None:
    """Write one self-contained HTML page (inline SVG plots) from the drift index."""
    from elasticsearch import Elasticsearch

    from streamsense.streams.topics import DRIFT_INDEX

    settings = get_settings()
    now = datetime.now(UTC)
    start = parse_time(since if not DURATION.match(since) else f"now-{since}", now)
    filters: list[dict] = [{"range": {"current_to": {"gte": start.isoformat()}}}]
    if stream:
        filters.append({"term": {"stream": stream}})
    with Elasticsearch(**elasticsearch_options(settings), request_timeout=30) as es:
        docs, total = [], 0
        if es.indices.exists(index=DRIFT_INDEX):
            found = es.search(
                index=DRIFT_INDEX,
                size=REPORT_ROWS,
                query={"bool": {"filter": filters}},
                sort=[{"current_to": "desc"}],
                track_total_hits=True,
            )["hits"]
            docs, total = [h["_source"] for h in reversed(found["hits"])], found["total"]["value"]
    if not out.parent.is_dir():
        raise typer.BadParameter(f"no folder {out.parent} to write {out.name} in")
    out.write_text(render_html(docs))
    newest = f", the newest of {total:,}: give a shorter --since for all" if total > len(docs) else ""
    typer.echo(f"wrote {out} ({len(docs):,} drift rows{newest})")
