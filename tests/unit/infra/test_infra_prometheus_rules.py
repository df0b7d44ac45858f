"""Structure of infra/prometheus and agreement of every PromQL expression with the metrics the worker emits."""

import re
from pathlib import Path
from typing import Any

import yaml

from streamsense.models.drift.psi import PSI_ALERT
from streamsense.streams.metric_names import METRICS
from streamsense.streams.topics import STREAMS

PROMETHEUS = Path(__file__).resolve().parents[3] / "infra" / "prometheus"
EMITTED_SERIES = {series: spec for spec in METRICS.values() for series in spec.series()}
PROMQL_KEYWORDS = {"by", "without", "and", "or", "unless", "bool", "on", "ignoring", "group_left", "group_right"}
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _rules() -> list[dict[str, Any]]:
    spec = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule for group in spec["groups"] for rule in group["rules"]]


def _rule(name: str) -> dict[str, Any]:
    (rule,) = [r for r in _rules() if r["alert"] == name]
    return rule


def metric_names_in(expr: str) -> set[str]:
    """Identifiers that PromQL reads as metric names: not functions, keywords, labels, durations or numbers."""
    text = re.sub(r'"[^"]*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", text)
    names = set()
    for match in _IDENT.finditer(text):
        following = text[match.end() :].lstrip()
        if following.startswith("(") or match.group() in PROMQL_KEYWORDS:
            continue
        if text[: match.start()].rstrip().endswith(tuple("0123456789.")):
            continue
        names.add(match.group())
    return names


def labels_in(expr: str) -> set[str]:
    """Label names used in grouping clauses and matchers."""
    labels = set()
    for group in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr):
        labels |= {label.strip() for label in group.split(",") if label.strip()}
    for matchers in re.findall(r"\{([^}]*)\}", expr):
        labels |= {m.split("=")[0].strip(" !~") for m in matchers.split(",") if m.strip()}
    return labels


def test_metric_name_extraction_skips_functions_labels_and_numbers() -> None:
    expr = 'histogram_quantile(0.99, sum by (model, le) (rate(foo_bucket{stage="x"}[5m]))) > 1e3'
    assert metric_names_in(expr) == {"foo_bucket"}
    assert labels_in(expr) == {"model", "le", "stage"}


def test_alert_rules_have_required_structure() -> None:
    rules = _rules()
    assert rules
    for rule in rules:
        assert set(rule) >= {"alert", "expr", "for", "labels", "annotations"}
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        assert re.fullmatch(r"\d+[smh]", rule["for"])
    assert len({r["alert"] for r in rules}) == len(rules)


def test_every_metric_in_alert_rules_is_one_the_worker_emits_with_its_labels() -> None:
    for rule in _rules():
        names = metric_names_in(rule["expr"])
        assert names, rule["alert"]
        assert names <= set(EMITTED_SERIES), f"{rule['alert']}: unknown metrics {names - set(EMITTED_SERIES)}"
        known_labels = {"le"} | {label for n in names for label in EMITTED_SERIES[n].labels}
        assert labels_in(rule["expr"]) <= known_labels, rule["alert"]


def test_required_alerts_watch_latency_lag_drift_and_dead_letters() -> None:
    latency = _rule("InferenceLatencyP99OverBudget")["expr"]
    assert "histogram_quantile(0.99" in latency and "inference_latency_seconds_bucket" in latency
    assert "model" in labels_in(latency)
    assert _rule("ConsumerLagHigh")["expr"].endswith("(streamsense_consumer_lag) > 100")
    assert _rule("FeatureDriftPSIHigh")["expr"].endswith(f"(streamsense_drift_psi) > {PSI_ALERT}")
    assert "rate(streamsense_dlq_events_total[5m])" in _rule("DeadLetterEvents")["expr"]


def test_scrape_config_covers_every_worker_on_metrics_port() -> None:
    spec = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert spec["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in spec["scrape_configs"]}
    assert sorted(jobs) == sorted(f"streamsense-{kind}" for kind in STREAMS)
    for kind in STREAMS:
        job = jobs[f"streamsense-{kind}"]
        assert job["metrics_path"] == "/metrics"
        (sd,) = job["dns_sd_configs"]
        assert sd["port"] == 6066
        assert sd["names"] == [f"streamsense-{kind}.streamsense.svc.cluster.local"]


def test_compose_scrape_config_covers_every_compose_worker_like_the_kubernetes_one() -> None:
    kubernetes = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    spec = yaml.safe_load((PROMETHEUS / "compose.yml").read_text())
    compose = yaml.safe_load((PROMETHEUS.parents[1] / "docker-compose.yml").read_text())
    assert spec["rule_files"] == kubernetes["rule_files"]
    assert compose["services"]["prometheus"]["command"] == ["--config.file=/etc/prometheus/compose.yml"]
    jobs = {job["job_name"]: job for job in spec["scrape_configs"]}
    assert sorted(jobs) == sorted(job["job_name"] for job in kubernetes["scrape_configs"])
    for kind in STREAMS:
        job = jobs[f"streamsense-{kind}"]
        assert job["metrics_path"] == "/metrics"
        assert job["static_configs"] == [{"targets": [f"worker-{kind}:6066"], "labels": {"worker": kind}}]
        assert f"worker-{kind}" in compose["services"]


def test_metric_specs_name_histogram_series_and_labels() -> None:
    latency = METRICS["inference_latency_seconds"]
    assert latency.series() == (
        "inference_latency_seconds_bucket",
        "inference_latency_seconds_sum",
        "inference_latency_seconds_count",
    )
    assert latency.labels == ("model", "stage")
    assert METRICS["streamsense_drift_psi"].labels == ("model", "feature")
