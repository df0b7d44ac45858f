import pytest
from pydantic import ValidationError

from streamsense.cli.main import settings_errors
from streamsense.settings import Settings


def test_an_invalid_setting_is_one_line_naming_its_variable_and_a_secret_one_does_not_echo_its_value() -> None:
    with pytest.raises(ValidationError) as invalid:
        Settings(fraud_currency_rates={"usd": 1.0, "GBP": -1.0}, topic_partitions="abc", es_api_key=["s3cret"])
    lines = settings_errors(invalid.value)
    assert len(lines) == 4
    assert any(line.startswith("error: STREAMSENSE_FRAUD_CURRENCY_RATES[usd] key: String should") for line in lines)
    assert "error: STREAMSENSE_FRAUD_CURRENCY_RATES[GBP]: Input should be greater than 0 (given -1.0)" in lines
    assert any(line.startswith("error: STREAMSENSE_TOPIC_PARTITIONS: ") and "(given 'abc')" in line for line in lines)
    assert any(line.startswith("error: STREAMSENSE_ES_API_KEY: ") for line in lines)
    assert not any("s3cret" in line for line in lines)
