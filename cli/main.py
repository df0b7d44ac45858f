"""Assembles the ``streamsense`` command from its groups."""

import importlib
import sys

import typer
from elasticsearch import ConnectionError as ESConnectionError
from pydantic import ValidationError

from streamsense.cli.consume import consume
from streamsense.cli.demo import demo_app
from streamsense.cli.groups import data_app, eval_app, report_app, train_app
from streamsense.cli.infra import infra_app
from streamsense.cli.produce import produce_app
from streamsense.cli.schemas import schemas_app
from streamsense.cli.worker import worker_app
from streamsense.settings import Settings, get_settings
from streamsense.streams.connections import ConnectionSetupError, safe_url

app = typer.Typer(
    help="StreamSense: real-time ML decisions on Kafka streams (chat, sensors, payments).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(demo_app, name="demo")
app.add_typer(infra_app, name="infra")
app.add_typer(worker_app, name="worker")
app.add_typer(produce_app, name="produce")
app.command("consume")(consume)
app.add_typer(schemas_app, name="schemas")
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")
app.add_typer(report_app, name="report")
app.add_typer(data_app, name="data")

# Domain modules register their commands on the groups above when imported.
COMMAND_MODULES: tuple[str, ...] = ("drift", "sensors", "fraud", "chat", "kibana")
for _module in COMMAND_MODULES:
    importlib.import_module(f"streamsense.cli.{_module}")


def settings_errors(error: ValidationError) -> list[str]:
    """One line per invalid setting, named by its environment variable, with the value given unless it may hold
    a secret."""
    prefix = Settings.model_config["env_prefix"]
    lines = []
    for issue in error.errors(include_url=False):
        name, *inside = issue["loc"]
        where = f"{prefix}{str(name).upper()}" + "".join(" key" if p == "[key]" else f"[{p}]" for p in inside)
        field = Settings.model_fields.get(str(name))
        secret = field is None or not field.repr or "SecretStr" in str(field.annotation)
        given = "" if secret else f" (given {issue['input']!r})"
        lines.append(f"error: {where}: {issue['msg']}{given}")
    return lines


def main() -> None:
    """The ``streamsense`` command: a broker or node that cannot be reached, or a setting that is not valid, is
    one line and exit status 2, as for ``worker run``, not a traceback."""
    try:
        app()
    except ValidationError as error:
        if error.title != Settings.__name__:
            raise
        for line in settings_errors(error):
            typer.secho(line, fg=typer.colors.RED, err=True)
        sys.exit(2)
    except ConnectionSetupError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except ESConnectionError as error:
        where = safe_url(get_settings().elasticsearch_url)
        typer.secho(f"error: elasticsearch at {where} did not answer: {error.message}", fg=typer.colors.RED, err=True)
        sys.exit(2)
