"""``streamsense kibana import``: load the saved objects (data views, dashboards) into a running Kibana."""

import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import typer

from streamsense.cli.main import app
from streamsense.settings import get_settings, http_url_problem

# ``cli.main`` imports this module after creating ``app`` (COMMAND_MODULES), so the group registers itself here.
kibana_app = typer.Typer(help="Kibana saved objects for the decision, drift and dead-letter indices.")
app.add_typer(kibana_app, name="kibana")
SAVED_OBJECTS = Path(__file__).resolve().parent.parent / "infra" / "kibana"


def bundle(folder: Path = SAVED_OBJECTS) -> bytes:
    """All NDJSON files as one upload, data views first so that the dashboards' references resolve."""
    files = sorted(folder.glob("*.ndjson"), key=lambda p: (p.name != "data_views.ndjson", p.name))
    if not files:
        raise FileNotFoundError(f"no .ndjson saved objects in {folder}")
    lines = [line for f in files for line in f.read_text().splitlines() if line.strip()]
    return ("\n".join(lines) + "\n").encode()


def multipart(field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with one file part (the import API takes the NDJSON as ``file``)."""
    boundary = f"streamsense-{uuid.uuid4().hex}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        "Content-Type: application/ndjson\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def import_saved_objects(url: str, content: bytes, space: str | None = None, timeout_s: float = 30.0) -> dict:
    """POST to Kibana's ``/api/saved_objects/_import?overwrite=true``; returns its JSON answer."""
    prefix = f"/s/{space}" if space else ""
    body, content_type = multipart("file", "streamsense.ndjson", content)
    request = urllib.request.Request(
        f"{url.rstrip('/')}{prefix}/api/saved_objects/_import?overwrite=true",
        data=body,
        method="POST",
        headers={"kbn-xsrf": "streamsense", "Content-Type": content_type},
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.loads(response.read())


@kibana_app.command("import")
def kibana_import(
    url: str = typer.Option(None, help="Kibana base URL (default: settings' kibana_url)"),
    space: str = typer.Option(None, help="Kibana space id (default space when omitted)"),
) -> None:
    """Load every saved object under infra/kibana/ (overwriting objects with the same ids); print Kibana's answer."""
    if url is not None and (problem := http_url_problem(url)):
        raise typer.BadParameter(problem, param_hint="--url")  # not echoed: it may hold a password
    target = url or get_settings().kibana_url
    try:
        answer = import_saved_objects(target, bundle(), space)
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")[:500]
        typer.echo(f"error: kibana refused the import: HTTP {error.code} {body}", err=True)
        raise typer.Exit(1) from error
    except urllib.error.URLError as error:
        typer.echo(
            f"error: kibana at {target} did not answer: {error.reason} (the local infra runs no Kibana; "
            "`docker compose up` does, or give --url)",
            err=True,
        )
        raise typer.Exit(1) from error
    typer.echo(json.dumps(answer))
    if not answer.get("success", False):
        raise typer.Exit(1)
