"""Settings become client configs for every client; secrets do not leak into reprs, dumps or messages."""

import ssl

import pytest
from confluent_kafka import KafkaError
from faust.auth import SASLCredentials, SSLCredentials

from streamsense.settings import Settings
from streamsense.streams.connections import (
    ConnectionSetupError,
    aiokafka_options,
    elasticsearch_options,
    faust_credentials,
    kafka_config,
    kafka_failure,
    safe_url,
    security_environment,
)

SECRET = "s3cr3t-never-shown"


def secure(**overrides: object) -> Settings:
    values = {
        "kafka_bootstrap": "broker:9094",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": "streamsense",
        "kafka_sasl_password": SECRET,
        "es_url": "https://es:9243",
        "es_api_key": SECRET,
        **overrides,
    }
    return Settings(**values)


def test_plaintext_by_default():
    settings = Settings(kafka_bootstrap="broker:9092")
    assert kafka_config(settings) == {"bootstrap.servers": "broker:9092", "security.protocol": "PLAINTEXT"}
    assert faust_credentials(settings) is None
    assert elasticsearch_options(Settings(es_url="http://es:9200")) == {"hosts": ["http://es:9200"]}


def test_sasl_ssl_for_confluent_kafka(tmp_path):
    ca = tmp_path / "ca.pem"
    config = kafka_config(secure(kafka_ssl_ca_file=ca))
    assert config == {
        "bootstrap.servers": "broker:9094",
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "streamsense",
        "sasl.password": SECRET,
        "ssl.ca.location": str(ca),
    }


def test_sasl_ssl_for_faust():
    credentials = faust_credentials(secure())
    assert isinstance(credentials, SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.password == SECRET
    assert isinstance(credentials.ssl_context, ssl.SSLContext)
    assert credentials.ssl_context.check_hostname
    assert SECRET not in repr(credentials)


def test_sasl_ssl_for_a_plain_aiokafka_client():
    options = aiokafka_options(secure())
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "streamsense" and options["sasl_plain_password"] == SECRET
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert aiokafka_options(Settings(kafka_bootstrap="broker:9092")) == {
        "bootstrap_servers": "broker:9092",
        "security_protocol": "PLAINTEXT",
    }


def test_tls_without_sasl_for_faust():
    assert isinstance(faust_credentials(Settings(kafka_security_protocol="SSL")), SSLCredentials)


def test_sasl_without_a_login_is_one_clear_error():
    with pytest.raises(ConnectionSetupError, match="STREAMSENSE_KAFKA_SASL_USERNAME"):
        kafka_config(Settings(kafka_security_protocol="SASL_SSL"))


def test_elasticsearch_api_key_wins_over_basic_auth(tmp_path):
    ca = tmp_path / "ca.pem"
    options = elasticsearch_options(secure(es_ca_file=ca, es_username="u", es_password="p"))
    assert options == {"hosts": ["https://es:9243"], "ca_certs": str(ca), "api_key": SECRET}
    basic = elasticsearch_options(secure(es_api_key=None, es_username="u", es_password=SECRET))
    assert basic["basic_auth"] == ("u", SECRET)


def test_secrets_are_hidden_in_settings_reprs_and_dumps():
    settings = secure(es_password=SECRET)
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert SECRET not in settings.model_dump_json()


def test_authentication_failure_is_one_line_naming_user_and_mechanism_not_password():
    error = KafkaError(KafkaError._AUTHENTICATION, "SASL authentication error: invalid credentials")
    message = kafka_failure(error, secure())
    assert message is not None and "\n" not in message
    assert "authentication failed" in message and "'streamsense'" in message and "SCRAM-SHA-512" in message
    assert SECRET not in message
    assert kafka_failure(KafkaError(KafkaError._ALL_BROKERS_DOWN, "down"), secure()) is None


def test_urls_lose_their_credentials_in_messages():
    assert safe_url(f"https://elastic:{SECRET}@es:9243/x") == "https://es:9243/x"
    assert safe_url("http://es:9200") == "http://es:9200"
    assert safe_url(f"https://elastic:{SECRET}@[::1]:9200/") == "https://[::1]:9200/"
    assert SECRET not in repr(Settings(es_url=f"https://elastic:{SECRET}@es:9243"))


def test_a_child_process_gets_the_same_security_settings(tmp_path, monkeypatch):
    settings = secure(kafka_ssl_ca_file=tmp_path / "ca.pem")
    env = security_environment(settings)
    assert env["STREAMSENSE_KAFKA_SASL_PASSWORD"] == SECRET
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    child = Settings(kafka_bootstrap="broker:9094", es_url="https://es:9243")
    assert kafka_config(child) == kafka_config(settings)
    assert elasticsearch_options(child) == elasticsearch_options(settings)
