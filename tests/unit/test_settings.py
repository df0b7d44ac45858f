import pytest
from pydantic import ValidationError

from streamsense.settings import Settings


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("STREAMSENSE_KAFKA_PORT", "19092")
    monkeypatch.setenv("STREAMSENSE_TOPIC_PARTITIONS", "16")
    settings = Settings()
    assert settings.bootstrap_servers == "127.0.0.1:19092"
    assert settings.topic_partitions == 16


def test_defaults_give_at_least_twelve_partitions_for_scale_out():
    assert Settings().topic_partitions >= 12


def test_explicit_urls_win_over_ports():
    settings = Settings(kafka_bootstrap="kafka:9092", es_url="http://es:9200")
    assert settings.bootstrap_servers == "kafka:9092"
    assert settings.elasticsearch_url == "http://es:9200"


def test_fraud_currency_rates_come_from_json_in_the_environment(monkeypatch) -> None:
    assert Settings().fraud_currency_rates == {"EUR": 1.0}
    monkeypatch.setenv("STREAMSENSE_FRAUD_CURRENCY_RATES", '{"EUR": 1, "USD": 0.86}')
    assert Settings().fraud_currency_rates == {"EUR": 1.0, "USD": 0.86}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("topic_partitions", 0),
        ("topic_replication", 0),
        ("batch_size", -5),
        ("max_event_bytes", 0),
        ("sensor_expiry_check_s", 0),
        ("chat_expiry_check_s", -1),
        ("fraud_expiry_check_s", 0),
        ("retention_check_s", 0),
        ("session_timeout_s", 0),
        ("drift_window_s", -5),
        ("chat_idle_s", 0),
        ("agent_restart_window_s", 0),
        ("es_retry_initial_s", 0),
        ("fraud_label_wait_days", 0),
        ("intent_top_k", 0),
        ("drift_sample_size", 0),
        ("fraud_retrain_rows", 0),
        ("changelog_segment_ms", 0),
    ],
)
def test_counts_sizes_and_periods_that_must_be_positive_refuse_zero_or_less(field: str, value: float) -> None:
    with pytest.raises(ValidationError) as invalid:
        Settings(**{field: value})
    assert [e["loc"] for e in invalid.value.errors()] == [(field,)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("retention_days", -1),
        ("max_event_ahead_s", -10),
        ("drift_interval_s", -1),
        ("fraud_retrain_every_s", -1),
        ("fraud_recent_s", -1),
        ("table_standby_replicas", -1),
        ("producer_linger_s", -0.1),
    ],
)
def test_settings_where_zero_means_off_or_none_refuse_negative_values(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        Settings(**{field: value})


def test_zero_keeps_its_documented_meaning_where_it_has_one() -> None:
    """0 keeps decisions for ever, turns the scheduled drift job and retraining off, expires at once, no standbys."""
    zeros = ("retention_days", "drift_interval_s", "fraud_retrain_every_s", "fraud_recent_s", "table_standby_replicas")
    settings = Settings(max_event_ahead_s=0, **dict.fromkeys(zeros, 0))
    assert all(getattr(settings, field) == 0 for field in (*zeros, "max_event_ahead_s"))


@pytest.mark.parametrize("field", ["intent_threshold", "fraud_threshold"])
@pytest.mark.parametrize("value", [-0.1, 1.5, 7])
def test_thresholds_outside_zero_to_one_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        Settings(**{field: value})


@pytest.mark.parametrize("field", ["worker_web_port", "kafka_port", "kafka_controller_port", "es_port"])
@pytest.mark.parametrize("value", [0, -1, 70_000])
def test_ports_outside_1_to_65535_are_refused(field: str, value: int) -> None:
    with pytest.raises(ValidationError):
        Settings(**{field: value})


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_infinite_floats_are_refused_from_the_environment(monkeypatch, value: str) -> None:
    """A NaN max_event_ahead_s compared false with every event time and silently turned the future-date check off."""
    monkeypatch.setenv("STREAMSENSE_MAX_EVENT_AHEAD_S", value)
    monkeypatch.setenv("STREAMSENSE_SENSOR_IDLE_S", value)
    with pytest.raises(ValidationError) as invalid:
        Settings()
    assert {e["loc"] for e in invalid.value.errors()} == {("max_event_ahead_s",), ("sensor_idle_s",)}


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x",
        "notaurl",
        "127.0.0.1:9200",
        "http://:9200",
        "http://es",
        "http://es:99999",
        " http://es:9200",
        "http://es:9200\t",
    ],
)
def test_an_es_url_without_http_scheme_host_or_port_is_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        Settings(es_url=url)


@pytest.mark.parametrize("url", ["http://es:9200", "https://es", "https://user:pw@es:9243/prefix", "http://[::1]:9200"])
def test_http_and_https_es_urls_with_a_host_are_taken(url: str) -> None:
    assert Settings(es_url=url).elasticsearch_url == url


def test_a_kibana_url_must_be_http_or_https_and_may_leave_the_port_to_its_scheme() -> None:
    assert Settings(kibana_url="http://kibana").kibana_url == "http://kibana"
    for url in ("notaurl", "ftp://kibana:5601", "http://kibana:0"):
        with pytest.raises(ValidationError):
            Settings(kibana_url=url)
