"""Offline drift commands: detector evaluation, threshold calibration, and a DriftReport from two CSV windows."""

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from streamsense.cli.groups import eval_app, report_app
from streamsense.models.drift.calibration import adversarial_calibration, statistic_calibration
from streamsense.models.drift.detector_evaluation import compare_detectors
from streamsense.models.drift.detectors import AdwinDetector, AlwaysAlarmDetector
from streamsense.models.drift.report import build_report


def _parse_floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


@eval_app.command("drift-detectors")
def eval_drift_detectors(
    runs: int = typer.Option(20, help="seeded streams per scenario"),
    n: int = typer.Option(4000, help="events per stream"),
    change_point: int = typer.Option(2000, help="index of the first event after the change"),
    p_before: float = typer.Option(0.1, help="error rate before the change"),
    p_after: str = typer.Option("0.15,0.2,0.3,0.5", help="error rates after the change, comma-separated"),
    delta: float = typer.Option(0.002, help="ADWIN confidence parameter"),
    seed: int = typer.Option(0),
) -> None:
    """ADWIN vs always-alarm on Bernoulli error streams: delay and false alarms per change size, plus no change."""
    factories = {"adwin": lambda: AdwinDetector(delta=delta), "always_alarm": AlwaysAlarmDetector}
    scenarios = {
        f"abrupt_{p_before}_to_{p}": compare_detectors(factories, runs, n, change_point, p_before, p, seed)
        for p in _parse_floats(p_after)
    }
    scenarios["stationary"] = compare_detectors(factories, runs, n, n, p_before, p_before, seed)
    config = {"runs": runs, "n": n, "change_point": change_point, "p_before": p_before, "delta": delta, "seed": seed}
    typer.echo(json.dumps({"config": config, "scenarios": scenarios}, indent=2))


@eval_app.command("drift-thresholds")
def eval_drift_thresholds(
    sizes: str = typer.Option("200,1000,5000", help="window sizes (rows per window), comma-separated"),
    shifts: str = typer.Option("0,0.1,0.25,0.5,1", help="mean shifts in standard deviations, comma-separated"),
    trials: int = typer.Option(100, help="seeded trials per cell"),
    adversarial_n: int = typer.Option(500, help="rows per window for adversarial validation"),
    adversarial_trials: int = typer.Option(5, help="seeded trials per shift for adversarial validation"),
    seed: int = typer.Option(0),
) -> None:
    """False-alarm rate (shift 0) and power of the PSI, KS and adversarial thresholds on synthetic shifts."""
    shift_list = _parse_floats(shifts)
    result = {
        "statistics": statistic_calibration([int(s) for s in _parse_floats(sizes)], shift_list, trials, seed),
        "adversarial": adversarial_calibration(adversarial_n, shift_list, adversarial_trials, seed=seed),
    }
    typer.echo(json.dumps(result, indent=2))


def _read_columns(path: Path) -> dict[str, list[str]]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise typer.BadParameter(f"{path} has no data rows")
    return {name: [row[name] for row in rows] for name in rows[0]}


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
    numeric = [c for c in ref_cols if c not in cat_names]
    report = build_report(
        model,
        {c: np.asarray(ref_cols[c], dtype=np.float64) for c in numeric},
        {c: np.asarray(cur_cols[c], dtype=np.float64) for c in numeric},
        {c: dict(Counter(ref_cols[c])) for c in cat_names},
        {c: dict(Counter(cur_cols[c])) for c in cat_names},
    )
    typer.echo(report.model_dump_json(indent=2))
