"""Offline checks of infra/k8s: Kubernetes JSON schemas (kubernetes-validate ships them), KEDA's documented
fields, kustomization wiring, and agreement with the topics and settings the code actually uses."""

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from streamsense.settings import Settings
from streamsense.streams.readiness import READY_PATH
from streamsense.streams.topics import STREAMS

REPO = Path(__file__).resolve().parents[3]
K8S = REPO / "infra" / "k8s"
KUBERNETES_VERSION = "1.33"
KEDA_SCHEMA = json.loads((Path(__file__).parent / "keda_scaledobject.schema.json").read_text())
NOT_KUBERNETES_OBJECTS = {"hpa/prometheus-adapter-rules.yaml"}
WORKER_KINDS = sorted(STREAMS)


def _docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _manifest_files() -> list[Path]:
    return sorted(
        p
        for p in K8S.rglob("*.yaml")
        if p.name != "kustomization.yaml" and str(p.relative_to(K8S)) not in NOT_KUBERNETES_OBJECTS
    )


def _objects(kind: str) -> dict[str, dict[str, Any]]:
    found = {}
    for path in _manifest_files():
        for doc in _docs(path):
            if doc["kind"] == kind:
                found[doc["metadata"]["name"]] = doc
    return found


def _worker_container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.parametrize("path", _manifest_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_is_valid_against_its_schema(path: Path) -> None:
    for doc in _docs(path):
        if doc["apiVersion"].startswith("keda.sh/"):
            jsonschema.validate(doc, KEDA_SCHEMA)
        else:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_schema_validation_rejects_a_misspelled_field() -> None:
    deployment = copy.deepcopy(_objects("Deployment")["streamsense-payments"])
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    scaled = copy.deepcopy(_objects("ScaledObject")["streamsense-payments"])
    scaled["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 100
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(scaled, KEDA_SCHEMA)


def test_kustomizations_list_existing_files_and_cover_every_manifest() -> None:
    listed: set[Path] = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        spec = yaml.safe_load(kustomization.read_text())
        entries = spec.get("resources", []) + [p["path"] for p in spec.get("patches", [])]
        for entry in entries:
            target = (kustomization.parent / entry).resolve()
            assert target.exists(), f"{kustomization}: {entry} does not exist"
            if target.is_dir():
                assert (target / "kustomization.yaml").exists()
            listed.add(target)
    every_yaml = {p.resolve() for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml"}
    assert every_yaml - listed == {(K8S / p).resolve() for p in NOT_KUBERNETES_OBJECTS}


def test_one_cpu_only_deployment_per_stream_runs_its_worker() -> None:
    deployments = _objects("Deployment")
    assert sorted(deployments) == [f"streamsense-{kind}" for kind in WORKER_KINDS]
    for kind in WORKER_KINDS:
        container = _worker_container(deployments[f"streamsense-{kind}"])
        assert container["image"] == "streamsense:0.1.0-trained"
        assert container["command"] == ["streamsense", "worker", "run", "--stream", kind]
        assert container["ports"] == [{"name": "metrics", "containerPort": 6066, "protocol": "TCP"}]
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["port"] == "metrics"
        assert container["readinessProbe"]["httpGet"]["path"] == READY_PATH
        assert set(container["resources"]) == {"requests", "limits"}
        assert "nvidia.com/gpu" not in container["resources"]["limits"]
        assert container["envFrom"] == [{"configMapRef": {"name": "streamsense-config"}}]


def test_no_deployment_mounts_over_the_trained_artifacts_in_the_image() -> None:
    cache_dir = Path(_objects("ConfigMap")["streamsense-config"]["data"]["STREAMSENSE_CACHE_DIR"])
    assert cache_dir == Path("/var/cache/streamsense")
    for name, deployment in _objects("Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        containers = pod["containers"] + pod.get("initContainers", [])
        mounts = [Path(m["mountPath"]) for c in containers for m in c.get("volumeMounts", [])]
        # a volume at, above or inside the cache dir hides the artifacts that the `trained` image stage put there
        hiding = [m for m in mounts if m == cache_dir or m in cache_dir.parents or cache_dir in m.parents]
        assert not hiding, f"{name} mounts {hiding}"
        assert Path("/var/lib/streamsense") in mounts, name


def test_services_expose_metrics_port_and_select_their_deployment() -> None:
    deployments = _objects("Deployment")
    for name, service in _objects("Service").items():
        pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert service["spec"]["clusterIP"] == "None"
        assert service["spec"]["publishNotReadyAddresses"] is True
        assert service["spec"]["ports"] == [
            {"name": "metrics", "port": 6066, "targetPort": "metrics", "protocol": "TCP"}
        ]


def test_configmap_sets_real_settings_including_bootstrap_es_and_partitions() -> None:
    data = _objects("ConfigMap")["streamsense-config"]["data"]
    assert {"STREAMSENSE_KAFKA_BOOTSTRAP", "STREAMSENSE_ES_URL"} <= set(data)
    assert data["STREAMSENSE_TOPIC_PARTITIONS"] == "12"
    settings = Settings(**{key.removeprefix("STREAMSENSE_").lower(): value for key, value in data.items()})
    assert settings.bootstrap_servers == data["STREAMSENSE_KAFKA_BOOTSTRAP"]
    assert settings.worker_web_port == 6066
    compose_env = yaml.safe_load((REPO / "docker-compose.yml").read_text())["x-worker"]["environment"]
    assert settings.drift_interval_s > 0
    assert data["STREAMSENSE_DRIFT_INTERVAL_S"] == compose_env["STREAMSENSE_DRIFT_INTERVAL_S"]


def test_scaledobjects_scale_each_worker_on_lag_of_every_topic_its_group_consumes() -> None:
    config = _objects("ConfigMap")["streamsense-config"]["data"]
    partitions = int(config["STREAMSENSE_TOPIC_PARTITIONS"])
    scaled = _objects("ScaledObject")
    assert sorted(scaled) == [f"streamsense-{kind}" for kind in WORKER_KINDS]
    for kind, spec in STREAMS.items():
        obj = scaled[f"streamsense-{kind}"]["spec"]
        assert obj["scaleTargetRef"]["name"] == f"streamsense-{kind}"
        assert obj["maxReplicaCount"] == 10 <= partitions
        metadata = [t["metadata"] for t in obj["triggers"] if t["type"] == "kafka"]
        assert sorted(m["topic"] for m in metadata) == sorted(spec.inputs + spec.internal)
        for m in metadata:
            assert m["consumerGroup"] == spec.app_id
            assert m["lagThreshold"] == "100"
            # the workers start a new group at the earliest offset (streams/app.py)
            assert m["offsetResetPolicy"] == "earliest"
            assert m["bootstrapServers"] == config["STREAMSENSE_KAFKA_BOOTSTRAP"]


def test_hpa_variant_scales_each_worker_on_external_lag_of_every_topic_its_group_consumes() -> None:
    hpas = _objects("HorizontalPodAutoscaler")
    assert sorted(hpas) == [f"streamsense-{kind}" for kind in WORKER_KINDS]
    for kind, spec in STREAMS.items():
        hpa = hpas[f"streamsense-{kind}"]
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["maxReplicas"] == 10
        externals = [m["external"] for m in hpa["spec"]["metrics"] if m["type"] == "External"]
        topics = sorted(e["metric"]["selector"]["matchLabels"]["topic"] for e in externals)
        assert topics == sorted(spec.inputs + spec.internal)
        for external in externals:
            assert external["metric"]["name"] == "kafka_consumergroup_lag"
            assert external["metric"]["selector"]["matchLabels"]["consumergroup"] == spec.app_id
            assert external["target"] == {"type": "AverageValue", "averageValue": "100"}
