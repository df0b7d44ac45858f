"""The pipeline by configuration alone against a SASL_SSL broker and a TLS proxy that checks the credential.

The secured broker (SCRAM over TLS, certificates from a throwaway CA) and the nginx proxy in front of the
session's Elasticsearch node run on their own ports (``SECURE_PORTS`` plus the test port offset). A right
credential gets a payment decided end to end; a wrong one fails with one line, quickly, no traceback.
"""

import os
import secrets
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Consumer
from elasticsearch import Elasticsearch

from streamsense.infra.local.launcher import LocalInfra
from streamsense.infra.local.secure import SecureInfra
from streamsense.schemas.chat import NewIntent
from streamsense.schemas.payments import Transaction
from streamsense.settings import Settings
from streamsense.streams.admin import ensure_topics
from streamsense.streams.connections import (
    ConnectionSetupError,
    elasticsearch_options,
    kafka_config,
)
from streamsense.streams.decision_log import install_templates
from streamsense.streams.producer import EventProducer
from streamsense.streams.topics import CHAT_INTENTS, DLQ_INDEX, PAYMENTS_DECISIONS, PAYMENTS_TRANSACTIONS
from streamsense.streams.worker import free_port, spawn_worker

pytestmark = pytest.mark.integration
_OFFSET = int(os.environ.get("STREAMSENSE_TEST_PORT_OFFSET", "0"))
SECURE_PORTS = {"kafka_port": 19492 + _OFFSET, "kafka_controller_port": 19493 + _OFFSET, "proxy_port": 19443 + _OFFSET}
INDEX = "streamsense-decisions-payments"
PASSWORD = f"kafka-{secrets.token_hex(8)}"
API_KEY = secrets.token_urlsafe(24)
ES_PASSWORD = f"es-{secrets.token_hex(8)}"
WRONG = "not-the-password"


@pytest.fixture(scope="session")
def secure_settings(settings: Settings) -> Settings:
    state = settings.state_dir / "secure"
    ca = state / "tls" / "ca.pem"
    return Settings(
        state_dir=state,
        cache_dir=settings.cache_dir,
        kafka_port=SECURE_PORTS["kafka_port"],
        kafka_controller_port=SECURE_PORTS["kafka_controller_port"],
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="streamsense",
        kafka_sasl_password=PASSWORD,
        kafka_ssl_ca_file=ca,
        es_url=f"https://127.0.0.1:{SECURE_PORTS['proxy_port']}",
        es_ca_file=ca,
        es_api_key=API_KEY,
        es_username="streamsense",
        es_password=ES_PASSWORD,
        es_retry_max_s=2.0,
    )


@pytest.fixture(scope="session")
def secure_infra(settings: Settings, secure_settings: Settings) -> Iterator[SecureInfra]:
    """The SASL_SSL broker, and the proxy in front of the session's Elasticsearch node (shared with ``infra``).

    The plain node starts in a thread while the secured broker starts: the proxy's health check waits for it.
    """
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("nginx is not installed (`make install` installs it as root)")
    plain = LocalInfra(settings)
    plain.resolve()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    settings.state_dir.chmod(0o755)
    started_here = plain.status()[1].pid is None
    secured = SecureInfra(secure_settings, es_upstream=f"127.0.0.1:{settings.es_port}")
    try:
        with ThreadPoolExecutor(1) as pool:
            node = pool.submit(plain.start_elasticsearch)
            secured.up()
            node.result()
        ensure_topics(secure_settings)
        install_templates(secure_settings)
        yield secured
    finally:
        secured.down()
        if started_here:
            plain.stop("elasticsearch")


@pytest.fixture
def proxied_es(secure_infra: SecureInfra, secure_settings: Settings) -> Iterator[Elasticsearch]:
    with Elasticsearch(**elasticsearch_options(secure_settings), request_timeout=30) as client:
        yield client


def read_decision(settings: Settings, event_id: str, timeout_s: float) -> dict | None:
    """The decision for ``event_id`` from the decision topic, read with the same security settings."""
    consumer = Consumer(
        {**kafka_config(settings), "group.id": f"test-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([PAYMENTS_DECISIONS])
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                decision = orjson.loads(message.value())
                if decision["event_id"] == event_id:
                    return decision
        return None
    finally:
        consumer.close()


def with_credentials(settings: Settings, **changes: object) -> Settings:
    return Settings(**{**settings.model_dump(), **changes})


def run_worker(settings: Settings, log: Path) -> subprocess.Popen:
    """A payments worker in its own process, given the security settings through its environment."""
    return spawn_worker("payments", settings, free_port(), log, "info")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)


def test_right_credentials_decide_a_payment_end_to_end_with_pii_redacted_in_the_log(
    secure_settings, proxied_es, wait_for, tmp_path
):
    run = uuid.uuid4().hex[:10]
    log = tmp_path / "worker.log"
    worker = run_worker(secure_settings, log)
    try:
        tx = Transaction(
            event_id=f"{run}-tx",
            event_time=datetime(2026, 4, 1, 14, 30, tzinfo=UTC),
            account_id=f"{run}-acct",
            terminal_id=f"{run}-term",
            amount=42.0,
        )
        bad = orjson.dumps({"event_id": f"{run}-bad", "note": "mail bob@example.com, card 4111 1111 1111 1111"})
        producer = EventProducer(secure_settings)
        producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
        producer.send_raw(PAYMENTS_TRANSACTIONS, tx.account_id.encode(), bad)
        producer.flush()
        decision = read_decision(secure_settings, tx.event_id, 120)
        assert decision is not None, f"no decision; worker log: {log.read_text(errors='replace')[-2000:]}"
        wait_for(lambda: proxied_es.exists(index=INDEX, id=tx.event_id).body, 30, "the decision through the proxy")
        assert proxied_es.get(index=INDEX, id=tx.event_id)["_source"]["score"] == decision["score"]

        def dead_letter() -> dict | None:
            proxied_es.indices.refresh(index=DLQ_INDEX)
            hits = proxied_es.search(index=DLQ_INDEX, query={"term": {"event_id": f"{run}-bad"}})["hits"]["hits"]
            return hits[0]["_source"] if hits else None

        wait_for(lambda: dead_letter() is not None, 30, "the invalid event in the dead-letter log")
        logged = orjson.dumps(dead_letter()).decode()
        assert "[EMAIL]" in logged and "[CARD]" in logged
        assert "bob@example.com" not in logged and "4111 1111 1111 1111" not in logged
    finally:
        stop(worker)
    output = log.read_text(errors="replace")
    for secret in (PASSWORD, API_KEY, ES_PASSWORD):
        assert secret not in output


def test_a_chat_worker_on_sasl_ssl_reads_a_new_intent(secure_infra, secure_settings, wait_for, tmp_path):
    """The chat worker's own reader of ``chat.intents`` (no consumer group) takes the same security settings."""
    name = f"Hotel-Pets-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "chat-worker.log"
    worker = spawn_worker("chat", secure_settings, free_port(), log, "info")
    try:
        now = datetime.now(UTC)
        examples = ["can I bring my dog", "are pets allowed", "is it dog friendly", "do you accept cats", "my pet too"]
        producer = EventProducer(secure_settings)
        added = NewIntent(event_id=f"{name}-add", event_time=now, intent=name, examples=examples)
        producer.send(CHAT_INTENTS, name, added)
        producer.flush()
        wait_for(lambda: f"intent {name} added" in log.read_text(errors="replace"), 120, "the worker adding the intent")
    finally:
        stop(worker)
    output = log.read_text(errors="replace")
    assert "following chat.intents, chat.feedback failed" not in output
    for secret in (PASSWORD, API_KEY, ES_PASSWORD):
        assert secret not in output


def assert_one_clear_error(proc: subprocess.Popen, log: Path, expected: str) -> str:
    try:
        proc.wait(90)
    except subprocess.TimeoutExpired:
        stop(proc)
        raise AssertionError(f"the worker hung instead of failing: {log.read_text(errors='replace')[-1500:]}") from None
    output = log.read_text(errors="replace")
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2, output[-1500:]
    assert len(errors) == 1 and expected in errors[0], output[-1500:]
    assert "Traceback" not in output
    for secret in (PASSWORD, WRONG, API_KEY, ES_PASSWORD):
        assert secret not in output
    return errors[0]


def test_a_wrong_kafka_password_or_elasticsearch_key_stops_the_worker_with_one_clear_message(
    secure_infra, secure_settings, tmp_path
):
    """Both workers start at once (each pays the import time of a worker); each names what was refused."""
    wrong_kafka = run_worker(with_credentials(secure_settings, kafka_sasl_password=WRONG), tmp_path / "kafka.log")
    wrong_es = run_worker(with_credentials(secure_settings, es_api_key=WRONG), tmp_path / "es.log")
    message = assert_one_clear_error(wrong_kafka, tmp_path / "kafka.log", "authentication failed")
    assert "SCRAM-SHA-512 as 'streamsense'" in message
    assert_one_clear_error(wrong_es, tmp_path / "es.log", "refused the credential (API key): HTTP 401")


def test_the_proxy_takes_basic_auth_and_refuses_a_wrong_login_or_none(secure_infra, secure_settings):
    basic = with_credentials(secure_settings, es_api_key=None)
    install_templates(basic, wait_s=10)
    with pytest.raises(ConnectionSetupError, match=r"refused the credential \(basic auth\): HTTP 401") as refused:
        install_templates(with_credentials(basic, es_password=WRONG), wait_s=10)
    assert WRONG not in str(refused.value)
    with pytest.raises(ConnectionSetupError, match=r"refused the credential \(no credential\)"):
        install_templates(with_credentials(basic, es_username=None, es_password=None), wait_s=10)


def test_an_untrusted_certificate_is_one_clear_error(secure_infra, secure_settings):
    system_ca = Path("/etc/ssl/certs/ca-certificates.crt")
    untrusted = with_credentials(secure_settings, kafka_ssl_ca_file=system_ca, es_ca_file=system_ca)
    with pytest.raises(ConnectionSetupError, match="TLS handshake failed"):
        ensure_topics(untrusted, timeout_s=10)
    with pytest.raises(ConnectionSetupError, match="TLS failed"):
        install_templates(untrusted, wait_s=10)


def test_settings_reprs_hide_the_secrets(secure_settings):
    shown = repr(secure_settings) + str(secure_settings) + secure_settings.model_dump_json()
    for secret in (PASSWORD, API_KEY, ES_PASSWORD):
        assert secret not in shown
