"""``streamsense schemas export DIR``."""

from pathlib import Path

import typer

from streamsense.schemas.export import export_json_schemas

schemas_app = typer.Typer(help="Event and decision schemas.", no_args_is_help=True)


@schemas_app.command("export")
def export(
    directory: Path = typer.Argument(..., file_okay=False, help="folder to write <Model>.json files into"),
) -> None:
    """Write JSON Schema files of every event and decision, for producers in other languages."""
    try:
        written = export_json_schemas(directory)
    except OSError as error:
        raise typer.BadParameter(f"cannot write into {directory}: {error.strerror}", param_hint="DIRECTORY") from None
    for path in written:
        typer.echo(path)
