"""``streamsense worker run``: one stream's Faust worker."""

import socket

import typer

from streamsense.settings import get_settings
from streamsense.streams.topics import STREAMS
from streamsense.streams.worker import run_worker


def port_free(port: int) -> bool:
    """Whether the worker's web server can bind ``port`` (Faust would fail on it after loading everything)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as aiohttp binds: a just-stopped worker's connections in TIME_WAIT do not hold the port, a listener does
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


worker_app = typer.Typer(help="Run stream workers (Faust agents).", no_args_is_help=True)


@worker_app.command("run")
def run(
    stream: str = typer.Option(..., "--stream", "-s", help=f"one of: {', '.join(STREAMS)}"),
    web_port: int | None = typer.Option(
        None, min=1, max=65535, help="port of the worker's web server (metrics); default from settings"
    ),
    loglevel: str = typer.Option("info", help="debug, info, warning or error"),
) -> None:
    """Consume the stream's input topics, decide, send decisions and log them until stopped (Ctrl-C)."""
    if stream not in STREAMS:
        raise typer.BadParameter(f"unknown stream {stream!r}; choose from {', '.join(STREAMS)}")
    settings = get_settings()
    port = web_port or settings.worker_web_port
    if not port_free(port):
        typer.secho(
            f"error: port {port} is in use (another worker on this machine?): give each worker its own with --web-port"
            " or STREAMSENSE_WORKER_WEB_PORT",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)
    run_worker(stream, settings, web_port, loglevel)  # a ConnectionSetupError is one line in ``cli.main.main``
