"""Offline checks of the Dockerfile and docker-compose.yml (Docker does not run on the CI machine): the image stages
each deployment uses, the volumes each service needs, and the producer's exit status."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from streamsense.streams.topics import STREAMS

REPO = Path(__file__).resolve().parents[3]
CACHE_DIR = "/var/cache/streamsense"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _stages() -> dict[str, str]:
    """Each Dockerfile stage's name and its text up to the next stage."""
    parts = re.split(r"^FROM ", (REPO / "Dockerfile").read_text(), flags=re.MULTILINE)[1:]
    return {part.splitlines()[0].split(" AS ")[1]: part for part in parts}


def _sh_command(service: dict[str, Any]) -> str:
    assert service["entrypoint"] == ["sh", "-c"]
    (command,) = service["command"]
    return command.replace("$$", "$")


def test_runtime_stage_has_npm_and_trained_stage_trains_like_the_compose_trainer() -> None:
    stages = _stages()
    assert list(stages) == ["runtime", "trained"]
    assert f"STREAMSENSE_CACHE_DIR={CACHE_DIR}" in stages["runtime"]
    assert re.search(r"apt-get install -y --no-install-recommends npm\b", stages["runtime"])
    assert "rm -rf /var/lib/apt/lists/*" in stages["runtime"]
    assert stages["trained"].startswith("runtime AS trained")
    (run,) = re.findall(r"^RUN (.*?)$", stages["trained"].replace("\\\n", " "), flags=re.MULTILINE)
    # the same steps as compose's trainer, which skips the models its volume already holds
    trainer = _sh_command(_compose()["services"]["trainer"]).replace(" --if-missing", "")
    assert run.split() == trainer.split()


def test_compose_builds_the_untrained_stage_and_shares_the_trained_artifacts() -> None:
    services = _compose()["services"]
    built = {name: s for name, s in services.items() if "build" in s}
    assert sorted(built) == sorted(["trainer", "producer", *(f"worker-{kind}" for kind in STREAMS)])
    for name, service in built.items():
        assert service["build"] == {"context": ".", "target": "runtime"}, name
        assert f"artifacts:{CACHE_DIR}" in service["volumes"], name


def test_kafka_keeps_its_log_dir_on_the_mounted_volume() -> None:
    kafka = _compose()["services"]["kafka"]
    (volume,) = kafka["volumes"]
    assert volume.split(":")[1] == kafka["environment"]["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
@pytest.mark.parametrize("failing", [None, "payments", "sensors", "chat"])
def test_producer_exits_non_zero_when_any_producer_fails(tmp_path: Path, failing: str | None) -> None:
    fake = tmp_path / "streamsense"
    # they end in the reverse order of their start: an early failure must not be lost to later successes
    fake.write_text(
        '#!/bin/sh\ncase "$2" in payments) sleep 0.3;; sensors) sleep 0.2;; chat) sleep 0.1;; esac\n'
        f'[ "$2" = "{failing}" ] && exit 7\nexit 0\n'
    )
    fake.chmod(0o755)
    command = _sh_command(_compose()["services"]["producer"])
    result = subprocess.run(["sh", "-c", command], env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, timeout=30)
    assert (result.returncode != 0) == (failing is not None)
