"""Runs promtool on infra/prometheus when it is installed (Debian's `prometheus` package ships it): both configs
(Kubernetes and docker compose), rule syntax, and the alert unit tests in alerts_test.yml. Skipped elsewhere; the
structural tests always run."""

import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS = Path(__file__).resolve().parents[3] / "infra" / "prometheus"
PROMTOOL = shutil.which("promtool")

pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")


@pytest.mark.parametrize(
    "args",
    [
        ["check", "config", "prometheus.yml"],
        ["check", "config", "compose.yml"],
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts_test.yml"],
    ],
    ids=["config", "compose-config", "rules", "alert-unit-tests"],
)
def test_promtool_accepts_config_rules_and_alert_tests(args: list[str]) -> None:
    assert PROMTOOL is not None
    result = subprocess.run([PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
