"""Fraud commands: ``train fraud``, ``eval fraud``, ``report fraud`` (global importance), ``report fairness``."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import orjson
import torch
import typer

from streamsense.cli.checks import bounded
from streamsense.cli.groups import eval_app, report_app, train_app
from streamsense.cli.times import parse_time
from streamsense.models.fraud.artifact import (
    SAMPLE_FILE,
    TrainingChoices,
    feature_sample,
    list_versions,
    load_latest,
    newest_with,
    read_meta,
    save,
    version_name,
)
from streamsense.models.fraud.experiment import RECIPE, ExperimentConfig, ExperimentResult, run
from streamsense.models.fraud.fairness import fairness_from_counts, fairness_report
from streamsense.models.fraud.scorer import checkpoint_files
from streamsense.models.fraud.xgb_model import contributions
from streamsense.settings import get_settings

Customers = Annotated[int, typer.Option(min=1, help="simulated customers")]
Terminals = Annotated[int, typer.Option(min=1, help="simulated terminals")]
Seed = Annotated[int, typer.Option(min=0, help="simulator and model seed")]
Gan = Annotated[str, typer.Option(help="GAN augmentation: auto (on if it helps validation AP), on or off")]
Precision = Annotated[
    float,
    typer.Option(help="target precision on validation for the threshold", callback=bounded(0, 1, low_open=True)),
]
ColdShare = Annotated[
    float, typer.Option(help="share of training transactions the booster also learns as if on a new card (0: none)")
]
AlertRate = Annotated[
    float | None,
    typer.Option(
        help="set the threshold from this validation alert rate instead of the precision",
        callback=bounded(0, 1, low_open=True),
    ),
]


def _fraud_dir() -> Path:
    return get_settings().artifact_dir / "fraud"


def _decisions_file() -> Path:
    return _fraud_dir() / "eval" / "test_decisions.json"


def _choices(gan: str, target_precision: float, alert_rate: float | None, cold_share: float) -> TrainingChoices:
    try:
        return TrainingChoices(target_precision, alert_rate, gan, cold_share)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _run(customers: int, terminals: int, seed: int, choices: TrainingChoices) -> ExperimentResult:
    torch.set_num_threads(1)
    return run(ExperimentConfig(n_customers=customers, n_terminals=terminals, seed=seed, choices=choices))


def _cached_recipe_version(choices: TrainingChoices, customers: int, terminals: int, seed: int) -> Path | None:
    """The newest version that the current recipe trained with these choices on this simulation, if any (a worker's
    retrained versions have no recipe; a version written before choices were kept reads as the default ones)."""
    root = _fraud_dir()
    simulation = {"n_customers": customers, "n_terminals": terminals, "seed": seed}
    for version in reversed(list_versions(root)):
        folder = root / version_name(version)
        meta = read_meta(folder)
        simulated = meta["metrics"].get("data", {}).get("simulator", {})
        if (
            meta["metrics"].get("recipe") == RECIPE
            and TrainingChoices.of(meta) == choices
            and all(simulated.get(key) == value for key, value in simulation.items())
        ):
            return folder
    return None


def _print(obj: Any) -> None:
    typer.echo(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode())


@train_app.command("fraud")
def train_fraud(
    customers: Customers = 2_500,
    terminals: Terminals = 5_000,
    seed: Seed = 0,
    gan: Gan = "auto",
    target_precision: Precision = 0.8,
    alert_rate: AlertRate = None,
    cold_share: ColdShare = 0.1,
    if_missing: Annotated[
        bool,
        typer.Option(
            "--if-missing", help="do nothing when this recipe has trained a cached version with these options"
        ),
    ] = False,
) -> None:
    """Train XGBoost + blend on the simulator and write the next versioned artifact (with warm checkpoints)."""
    choices = _choices(gan, target_precision, alert_rate, cold_share)
    if if_missing and (cached := _cached_recipe_version(choices, customers, terminals, seed)) is not None:
        _print({"cached": str(cached)})
        return
    result = _run(customers, terminals, seed, choices)
    replayed = result.replayed
    extra = checkpoint_files(replayed.pipeline, replayed.online) | {SAMPLE_FILE: feature_sample(replayed.X, seed)}
    folder = save(result.artifact, _fraud_dir(), extra)
    _print({"artifact": str(folder), "version": result.artifact.version_name, "metrics": result.artifact.metrics})


@eval_app.command("fraud")
def eval_fraud(
    customers: Customers = 2_500,
    terminals: Terminals = 5_000,
    seed: Seed = 0,
    gan: Gan = "auto",
    target_precision: Precision = 0.8,
    alert_rate: AlertRate = None,
    cold_share: ColdShare = 0.1,
) -> None:
    """Time-ordered evaluation on the simulator: online (prequential), XGBoost and combined, and every test
    transaction again as if on a new card (``cold_start``); one JSON object."""
    result = _run(customers, terminals, seed, _choices(gan, target_precision, alert_rate, cold_share))
    path = _decisions_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(result.test_rows))
    _print(result.report | {"test_decisions_file": str(path)})


@report_app.command("fraud")
def report_fraud(top: Annotated[int, typer.Option(min=1, help="features to show")] = 20) -> None:
    """Global feature importance of the newest artifact: mean |SHAP| (exact TreeSHAP) per feature, on a sample of the
    rows it was trained on (a version a worker retrained before stop 34 kept none: then the newest sample there is)."""
    artifact = load_latest(_fraud_dir())
    sampled = newest_with(_fraud_dir(), SAMPLE_FILE)
    if artifact is None or sampled is None:
        raise typer.BadParameter("no fraud artifact yet: run `streamsense train fraud` first")
    sample = np.load(sampled / SAMPLE_FILE)
    shap = contributions(artifact.booster, sample)
    importance = np.abs(shap[:, :-1]).mean(axis=0)
    order = np.argsort(-importance)[:top]
    _print(
        {
            "version": artifact.version_name,
            "sample_of": sampled.name,
            "rows": len(sample),
            "mean_abs_shap": {artifact.names[i]: round(float(importance[i]), 5) for i in order},
        }
    )


@report_app.command("fairness")
def report_fairness(
    source: Annotated[
        str, typer.Option(help="eval: the last `eval fraud` test decisions; elasticsearch: labelled live decisions")
    ] = "eval",
    since: Annotated[
        str | None, typer.Option(help="elasticsearch only: labels since this ISO time or now-<duration> (now-7d)")
    ] = None,
) -> None:
    """Per-group alert rate, TPR, FPR, precision and parity gaps, by age band and by gender."""
    attributes = ("age_band", "gender")
    if source == "eval":
        path = _decisions_file()
        if not path.is_file():
            raise typer.BadParameter("no evaluation decisions yet: run `streamsense eval fraud` first")
        rows = orjson.loads(path.read_bytes())
        _print({attr: fairness_report((r[attr], r["is_fraud"], r["flagged"]) for r in rows) for attr in attributes})
    elif source == "elasticsearch":
        from elasticsearch import Elasticsearch

        from streamsense.streams.connections import elasticsearch_options
        from streamsense.streams.fairness_query import fairness_counts
        from streamsense.streams.topics import label_index

        start = parse_time(since, datetime.now(UTC))
        with Elasticsearch(**elasticsearch_options(get_settings()), request_timeout=30) as es:
            counts = {attr: fairness_counts(es, label_index("payments"), attr, start) for attr in attributes}
        _print({attr: fairness_from_counts(c) for attr, c in counts.items()})
    else:
        raise typer.BadParameter("source must be eval or elasticsearch")
