"""``streamsense kibana import`` against a stand-in HTTP server that records what Kibana would receive."""

import json
import threading
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from streamsense.cli.main import app


class _Recorder(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, Message, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers, body))
        answer = json.dumps({"success": True, "successCount": body.count(b'"id"')}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def kibana() -> Iterator[str]:
    _Recorder.received = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_import_posts_all_saved_objects_as_multipart_with_kbn_xsrf(kibana: str) -> None:
    result = CliRunner().invoke(app, ["kibana", "import", "--url", kibana, "--space", "ops"])
    assert result.exit_code == 0, result.output
    ((path, headers, body),) = _Recorder.received
    assert path == "/s/ops/api/saved_objects/_import?overwrite=true"
    assert headers["kbn-xsrf"]
    assert headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="streamsense.ndjson"' in body
    assert b'"type": "dashboard"' in body and b'"type": "index-pattern"' in body
    assert json.loads(result.output)["success"] is True


def test_import_fails_cleanly_when_kibana_does_not_answer() -> None:
    result = CliRunner().invoke(app, ["kibana", "import", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "did not answer" in result.output
