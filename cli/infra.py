"""``streamsense infra up|down|status``: the local Kafka broker and Elasticsearch node."""

import typer

from streamsense.infra.local.launcher import InfraError, LocalInfra
from streamsense.settings import get_settings
from streamsense.streams.connections import safe_url

infra_app = typer.Typer(help="Run a local Kafka broker (KRaft) and Elasticsearch node from Maven Central jars.")


def _fail(error: InfraError) -> None:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@infra_app.command()
def up() -> None:
    """Resolve the jars (once, cached), start Kafka and Elasticsearch, and wait until both are healthy."""
    settings = get_settings()
    try:
        LocalInfra(settings).up()
    except InfraError as error:
        _fail(error)
    typer.echo(f"kafka {settings.bootstrap_servers} and elasticsearch {safe_url(settings.elasticsearch_url)} are up")


@infra_app.command()
def down() -> None:
    """Stop the services that ``up`` started (and nothing else)."""
    stopped = LocalInfra(get_settings()).down()
    typer.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@infra_app.command()
def status() -> None:
    """Show whether each service runs and answers; exits 1 unless both are healthy."""
    statuses = LocalInfra(get_settings()).status()
    for item in statuses:
        state = "healthy" if item.healthy else ("running, not healthy" if item.running else "stopped")
        typer.echo(f"{item.name:<14} {state:<22} pid={item.pid or '-'} {item.detail}")
    if not all(item.healthy for item in statuses):
        raise typer.Exit(1)
