"""Typer groups that several domain modules register commands on (``eval``, ``train``, ``report``)."""

import typer

eval_app = typer.Typer(help="Evaluate models offline; each command prints one JSON object.", no_args_is_help=True)
train_app = typer.Typer(help="Train model artifacts from data in the repo or in installed packages.", no_args_is_help=True)
report_app = typer.Typer(help="Human-readable reports on models and decisions.", no_args_is_help=True)
