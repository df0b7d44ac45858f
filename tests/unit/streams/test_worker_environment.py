import os
from unittest import mock

from streamsense.settings import Settings
from streamsense.streams.worker import worker_environment


def _child(env: dict[str, str]) -> Settings:
    with mock.patch.dict(os.environ, env, clear=True):
        return Settings()


def test_a_child_worker_gets_the_explicit_settings_and_leaves_an_optional_one_set_to_none_unset() -> None:
    parent_env = {"STREAMSENSE_ES_API_KEY": "from-the-shell"}
    with mock.patch.dict(os.environ, parent_env, clear=True):
        settings = Settings(es_username="u", es_password="p", es_api_key=None, es_ca_file=None, topic_partitions=4)
        env = worker_environment(settings)
    child = _child(env)
    assert child.es_api_key is None and child.es_ca_file is None
    assert (child.es_username, child.es_password.get_secret_value()) == ("u", "p")
    assert child.topic_partitions == 4
    assert "null" not in env.values()
