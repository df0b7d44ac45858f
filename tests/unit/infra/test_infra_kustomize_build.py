"""Renders every kustomization with the kustomize built into kubectl (offline) and validates the output.

Skipped where kubectl is not installed; the schema tests in test_infra_k8s_manifests.py run regardless.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[3] / "infra" / "k8s"
KEDA_SCHEMA = json.loads((Path(__file__).parent / "keda_scaledobject.schema.json").read_text())
KUBECTL = shutil.which("kubectl")
ROOTS = ["", "keda", "hpa"]

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl (with built-in kustomize) is not installed")


def _render(root: str) -> list[dict[str, Any]]:
    assert KUBECTL is not None
    out = subprocess.run(
        [KUBECTL, "kustomize", str(K8S / root)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.mark.parametrize("root", ROOTS, ids=lambda r: r or "default")
def test_kustomization_renders_valid_objects_in_the_streamsense_namespace(root: str) -> None:
    docs = _render(root)
    assert docs
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "streamsense"
        if doc["apiVersion"].startswith("keda.sh/"):
            jsonschema.validate(doc, KEDA_SCHEMA)
        else:
            kubernetes_validate.validate(doc, "1.33", strict=True)


def test_default_uses_keda_and_hpa_variant_uses_hpas_never_both() -> None:
    default_kinds = {d["kind"] for d in _render("")}
    hpa_kinds = {d["kind"] for d in _render("hpa")}
    assert "ScaledObject" in default_kinds and "HorizontalPodAutoscaler" not in default_kinds
    assert "HorizontalPodAutoscaler" in hpa_kinds and "ScaledObject" not in hpa_kinds
