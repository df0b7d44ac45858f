"""``worker run``: a port another worker holds is one line and exit 2, before anything is loaded."""

import socket

from typer.testing import CliRunner

from streamsense.cli.main import app
from streamsense.cli.worker import port_free


def test_a_second_worker_on_a_taken_web_port_exits_2_naming_the_port_and_the_option() -> None:
    """It failed after loading its models, with the bind error deep in a hundred lines of log."""
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert not port_free(port)
        result = CliRunner().invoke(app, ["worker", "run", "--stream", "sensors", "--web-port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} is in use" in result.output and "--web-port" in result.output
    assert port_free(port)
