"""``streamsense worker run``: one stream's Faust worker."""

import typer

from streamsense.settings import get_settings
from streamsense.streams.connections import ConnectionSetupError
from streamsense.streams.topics import STREAMS
from streamsense.streams.worker import run_worker

worker_app = typer.Typer(help="Run stream workers (Faust agents).", no_args_is_help=True)


@worker_app.command("run")
def run(
    stream: str = typer.Option(..., "--stream", "-s", help=f"one of: {', '.join(STREAMS)}"),
    web_port: int | None = typer.Option(None, help="port of the worker's web server (metrics); default from settings"),
    loglevel: str = typer.Option("info", help="debug, info, warning or error"),
) -> None:
    """Consume the stream's input topics, decide, send decisions and log them until stopped (Ctrl-C)."""
    if stream not in STREAMS:
        raise typer.BadParameter(f"unknown stream {stream!r}; choose from {', '.join(STREAMS)}")
    try:
        run_worker(stream, get_settings(), web_port, loglevel)
    except ConnectionSetupError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
