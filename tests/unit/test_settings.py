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
