"""The payments path under stress on the real broker and node: fuzzed input, a broker restart, a rebalance,
messages that Faust loses between the consumer and their stream, and no false stall errors in the log."""

import contextlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from streamsense.schemas.payments import Transaction, TransactionLabel
from streamsense.streams.codec import DecodeError, check_key, decode
from streamsense.streams.topics import (
    PAYMENTS_DECISIONS,
    PAYMENTS_LABELS,
    PAYMENTS_TRANSACTIONS,
    STREAMS,
    dlq_topic,
    label_index,
)

pytestmark = pytest.mark.integration
INDEX = "streamsense-decisions-payments"
FUZZ_EVENTS = 10_000
INT64 = st.integers(-(2**63), 2**63 - 1)


LOSSY_CONSUMER = '''
"""Injected through PYTHONPATH: the worker's consumer hands every message on to Faust's conductor, which drops the
first delivery of each one whose value names a "-lost-" event, as Faust was seen to lose one in CI."""
from streamsense.streams import consumer

_init = consumer.Consumer.__init__
_dropped = set()


def _lossy_init(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    deliver = self.callback

    async def drop_first_delivery(message):
        if b"-lost-" in (message.value or b"") and (message.tp, message.offset) not in _dropped:
            _dropped.add((message.tp, message.offset))
            return None
        return await deliver(message)

    self.callback = drop_first_delivery


consumer.Consumer.__init__ = _lossy_init
'''

BROKEN_DECISION_LOG = '''
"""Injected through PYTHONPATH: every write to the decision log fails, as every Elasticsearch request of a worker
once did."""
from streamsense.streams import decision_log


async def _broken_write(self, actions):
    raise RuntimeError("injected: the decision log is broken")


decision_log.DecisionLog.write = _broken_write
'''

HANGING_DECISION_LOG = '''
"""Injected through PYTHONPATH: no write to the decision log ever completes, as while Elasticsearch is down."""
import asyncio

from streamsense.streams import decision_log


async def _hang(self, actions):
    await asyncio.Event().wait()


decision_log.DecisionLog.write = _hang
'''


def _tx(run: str, n: int, accounts: int = 200) -> Transaction:
    return Transaction(
        event_id=f"{run}-tx-{n}",
        event_time=datetime(2026, 4, 1, tzinfo=UTC) + timedelta(seconds=n),
        account_id=f"{run}-acct-{n % accounts}",
        terminal_id=f"{run}-term-{n % 97}",
        amount=round(5 + (n * 37) % 900, 2),
    )


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


MUTATIONS: dict[str, Callable[[dict, st.DataObject], bytes]] = {
    "valid": lambda tx, data: orjson.dumps(tx),
    "missing_key": lambda tx, data: orjson.dumps(
        {k: v for k, v in tx.items() if k != data.draw(st.sampled_from(sorted(tx)))}
    ),
    "extra_key": lambda tx, data: orjson.dumps({**tx, data.draw(st.text(min_size=1, max_size=20)): 1}),
    "wrong_type": lambda tx, data: orjson.dumps(
        {**tx, data.draw(st.sampled_from(sorted(tx))): data.draw(st.one_of(st.lists(INT64), st.booleans()))}
    ),
    "huge_number": lambda tx, data: orjson.dumps(tx).replace(
        b'"amount":' + orjson.dumps(tx["amount"]), b'"amount":' + data.draw(st.sampled_from([b"1e400", b"9" * 400]))
    ),
    "nan": lambda tx, data: orjson.dumps(tx).replace(
        b'"amount":' + orjson.dumps(tx["amount"]), b'"amount":' + data.draw(st.sampled_from([b"NaN", b"Infinity"]))
    ),
    "deep_nesting": lambda tx, data: (
        json.dumps({**tx, "meta": "X"}).replace('"X"', _nested(data.draw(st.integers(200, 3000)))).encode()
    ),
    "invalid_utf8": lambda tx, data: (
        orjson.dumps(tx)[: data.draw(st.integers(1, 40))]
        + data.draw(st.sampled_from([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80"]))
    ),
    "random_bytes": lambda tx, data: data.draw(st.binary(min_size=0, max_size=200)),
    "truncated": lambda tx, data: orjson.dumps(tx)[: data.draw(st.integers(0, 60))],
    "weird_text": lambda tx, data: orjson.dumps(
        {**tx, "account_id": data.draw(st.text(min_size=0, max_size=80)), "currency": data.draw(st.text(max_size=4))}
    ),
}


KEYS: dict[str, Callable[[dict, st.DataObject], bytes | None]] = {
    "own": lambda tx, data: tx["account_id"].encode(),
    "none": lambda tx, data: None,
    "another_account": lambda tx, data: f"{tx['account_id']}0".encode(),
    "random_bytes": lambda tx, data: data.draw(st.binary(max_size=40)),
}
"""The message key: most events are keyed by their account, as producers must; the others are dead-lettered."""


def fuzzed_events(run: str, n: int) -> list[tuple[bytes | None, bytes]]:
    """``n`` (key, raw value) pairs: valid transactions and hypothesis-drawn mutations of them and of their keys."""
    collected: list[tuple[bytes | None, bytes]] = []

    @hypothesis_settings(
        max_examples=n // 100,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        for _ in range(100):
            tx = orjson.loads(_tx(run, len(collected)).model_dump_json())
            kind = data.draw(st.sampled_from(sorted(MUTATIONS)))
            key = data.draw(st.sampled_from(["own"] * 7 + sorted(set(KEYS) - {"own"})))
            collected.append((KEYS[key](tx, data), MUTATIONS[kind](tx, data)))

    draw()
    return collected


def test_ten_thousand_fuzzed_events_crash_nothing_and_each_is_decided_or_dead_lettered_with_a_reason(
    start_worker, producer, read_topic, count_by_id, wait_for, settings
):
    run = uuid.uuid4().hex[:10]
    events = fuzzed_events(run, FUZZ_EVENTS)
    tags = [f"{run}:{n}".encode() for n in range(len(events))]
    valid: dict[str, bytes] = {}
    for tag, (key, raw) in zip(tags, events, strict=True):
        with contextlib.suppress(DecodeError):
            tx = check_key(decode(raw, Transaction, settings.max_event_bytes, settings.max_event_ahead_s), key)
            if tx.currency in settings.fraud_currency_rates:  # else unusable: dead-lettered as well
                valid[tx.event_id] = tag
    invalid = set(tags) - set(valid.values())
    assert len(valid) > 500 and len(invalid) > 5_000, "the fuzzer must exercise both paths"
    worker = start_worker("payments")
    for tag, (key, raw) in zip(tags, events, strict=True):
        producer.send_raw(PAYMENTS_TRANSACTIONS, key, raw, [("fuzz", tag)])
    producer.flush(120)
    dead = read_topic(dlq_topic(PAYMENTS_TRANSACTIONS))
    lettered: dict[bytes, dict] = {}

    def all_dead_lettered() -> bool:
        for message in dead.poll(2.0):
            headers = dict(message.headers() or [])
            if headers.get("fuzz") in invalid:  # the message's own headers travel with its dead letter
                lettered[headers["fuzz"]] = headers
        return set(lettered) >= invalid

    wait_for(all_dead_lettered, 300, "every invalid event on the dead-letter topic")
    assert all(headers["dlq.error.reason"] and headers["dlq.error.kind"] for headers in lettered.values())
    assert any(headers["dlq.error.kind"] == b"wrong_key" for headers in lettered.values())
    wait_for(lambda: len(count_by_id(INDEX, list(valid))) == len(valid), 300, "every valid event decided")
    assert worker.alive(), worker.log()


def _publish_paced(producer, txs: list[Transaction], seconds: float) -> threading.Thread:
    def run() -> None:
        for tx in txs:
            producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
            time.sleep(seconds / len(txs))
        producer.flush(120)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_broker_restart_under_load_loses_nothing_and_the_worker_retries_at_a_spaced_pace(
    infra, start_worker, producer, count_by_id, wait_for, decide_payment
):
    run = uuid.uuid4().hex[:10]
    txs = [_tx(run, n) for n in range(1_500)]
    ids = [tx.event_id for tx in txs]
    worker = start_worker("payments")
    warm = _tx(run, 10_000)
    decide_payment(warm, 240, "the worker to be ready")
    sender = _publish_paced(producer, txs, 15.0)
    time.sleep(5)
    infra.stop("kafka")
    time.sleep(10)
    infra.start_kafka()
    sender.join(180)
    wait_for(lambda: len(count_by_id(INDEX, ids)) == len(ids), 240, "every decision after the broker restart")
    assert set(count_by_id(INDEX, ids).values()) == {1}
    assert worker.alive(), worker.log()
    # without a pause between them, the worker's clients retried about 4,000 metadata updates a second
    failed_updates = worker.log_path.read_text(errors="replace").count("Unable to update metadata")
    assert 0 < failed_updates < 300, f"{failed_updates} failed metadata updates while the broker was away"


def test_a_second_worker_joining_and_leaving_under_load_splits_keys_without_conflicting_decisions(
    start_worker, producer, read_topic, count_by_id, wait_for, decide_payment
):
    """During both rebalances every transaction is decided; a transaction decided twice (at-least-once across the
    hand-over) gets the same score both times, which it would not if two workers had held its account at once."""
    run = uuid.uuid4().hex[:10]
    txs = [_tx(run, n, accounts=300) for n in range(3_000)]
    ids = [tx.event_id for tx in txs]
    first = start_worker("payments")
    warm = _tx(run, 10_000)
    decide_payment(warm, 240, "the first worker to be ready")
    decisions = read_topic(PAYMENTS_DECISIONS)
    sender = _publish_paced(producer, txs, 30.0)
    time.sleep(8)
    second = start_worker("payments")
    time.sleep(12)
    second.stop()
    sender.join(180)
    wait_for(lambda: len(count_by_id(INDEX, ids)) == len(ids), 240, "every decision across both rebalances")
    scores: dict[str, set[float]] = {}

    def all_on_topic() -> bool:
        for message in decisions.poll(2.0):
            decision = orjson.loads(message.value())
            if decision["event_id"].startswith(run):
                scores.setdefault(decision["event_id"], set()).add(decision["score"])
        return set(ids) <= set(scores)

    wait_for(all_on_topic, 240, "every decision on the topic")
    conflicting = {event_id: found for event_id, found in scores.items() if len(found) > 1}
    assert not conflicting, f"{len(conflicting)} transactions decided differently by two workers"
    assert first.alive(), first.log()


def test_a_worker_that_keeps_up_logs_no_stalled_partition_once_up_longer_than_the_stall_time(
    start_worker, producer, count_by_id, wait_for, decide_payment
):
    """Faust's consumer logs an error for a partition with records waiting whose stream has taken nothing for the
    stall time; the worker keeps the times it reads (``streams.app.StreamInbound``). Without them every partition
    with records waiting when Faust looked was logged, once the worker had been up that long. The log is read from
    when every partition has taken events: before that, a partition whose first record waits for its stream counts
    as stalled once the worker is up for the stall time, which is right for Faust's 5 minutes."""
    run = uuid.uuid4().hex[:10]
    worker = start_worker("payments", extra_env={"STREAMSENSE_STREAM_STALL_LOG_S": "10"})
    decide_payment(_tx(run, 10_000), 240, "the worker to be ready")
    warm = [_tx(run, n, accounts=300) for n in range(20_000, 20_600)]
    warm_ids = [tx.event_id for tx in warm]
    _publish_paced(producer, warm, 6.0).join(120)
    wait_for(lambda: len(count_by_id(INDEX, warm_ids)) == len(warm_ids), 240, "the warm-up decided")
    seen = len(worker.log_path.read_text(errors="replace"))
    txs = [_tx(run, n, accounts=300) for n in range(1_500)]
    _publish_paced(producer, txs, 15.0).join(120)
    ids = [tx.event_id for tx in txs]
    wait_for(lambda: len(count_by_id(INDEX, ids)) == len(ids), 240, "every transaction decided")
    log = worker.log_path.read_text(errors="replace")[seen:]
    stalls = [line for line in log.splitlines() if "Stream has not started" in line or "Stream stopped" in line]
    assert not stalls, stalls[:3]
    assert worker.alive(), worker.log()


def test_messages_lost_between_the_consumer_and_their_stream_are_handed_out_again_and_decided(
    start_worker, producer, count_by_id, wait_for, decide_payment, tmp_path
):
    """A lost message holds its partition's commit back; the consumer finds it no longer alive, neither acked nor
    waiting anywhere, and hands it (and only what was lost) out again. Every fifth transaction here is lost once,
    in both stages (the transaction, then its scoring request)."""
    (tmp_path / "sitecustomize.py").write_text(LOSSY_CONSUMER)
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    worker = start_worker("payments", extra_env={"PYTHONPATH": path})
    run = uuid.uuid4().hex[:10]
    decide_payment(_tx(run, 10_000), 240, "the worker to be ready")
    txs = [_tx(run, n) for n in range(40)]
    txs = [tx.model_copy(update={"event_id": f"{run}-lost-{n}"}) if n % 5 == 0 else tx for n, tx in enumerate(txs)]
    for tx in txs:
        producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
    producer.flush()
    ids = [tx.event_id for tx in txs]
    wait_for(lambda: len(count_by_id(INDEX, ids)) == len(ids), 120, "every decision, the lost ones too")
    assert "never reached their stream" in worker.log_path.read_text(errors="replace"), worker.log()

    def redelivered(topic: str) -> float:
        return worker.metric(f'streamsense_redelivered_total{{topic="{topic}"}}')

    lost = sum(1 for tx in txs if "-lost-" in tx.event_id)
    wait_for(lambda: redelivered(PAYMENTS_TRANSACTIONS) >= lost, 30, "the redelivered offsets in the metrics")
    assert worker.alive(), worker.log()


def test_a_worker_whose_agent_keeps_crashing_exits_for_a_fresh_process(
    start_worker, producer, settings, wait_for, tmp_path
):
    """Faust restarts a crashed agent; one that crashes on every batch made a worker that held its partitions and
    decided nothing, for as long as it ran."""
    (tmp_path / "sitecustomize.py").write_text(BROKEN_DECISION_LOG)
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    limits = settings.model_copy(update={"agent_max_restarts": 2, "agent_restart_window_s": 120.0})
    worker = start_worker("payments", overrides=limits, extra_env={"PYTHONPATH": path})
    wait_for(worker.ready, 120, "the worker to be ready")
    tx = _tx(uuid.uuid4().hex[:10], 1)
    producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
    producer.flush()
    wait_for(lambda: not worker.alive(), 120, "the worker to exit")
    log = worker.log_path.read_text(errors="replace")
    assert worker.proc.returncode == 1, log[-3000:]
    assert "injected: the decision log is broken" in log and "Max restarts exceeded" in log, log[-3000:]


def test_a_transaction_labelled_while_its_decision_waited_for_the_log_is_decided_again_after_a_crash(
    start_worker, producer, read_topic, es, count_by_id, wait_for, tmp_path
):
    """Until stop 37 its replay found the label's marker and dropped it as decided long ago: the decision never
    reached the log or the topic, and the labelled decision never reached the label index."""
    (tmp_path / "sitecustomize.py").write_text(HANGING_DECISION_LOG)
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    stuck = start_worker("payments", extra_env={"PYTHONPATH": path})
    wait_for(stuck.ready, 240, "the worker to be ready")
    run = uuid.uuid4().hex[:10]
    tx = _tx(run, 1)
    label = TransactionLabel(
        event_id=f"{run}-label",
        event_time=tx.event_time + timedelta(hours=1),
        transaction_id=tx.event_id,
        account_id=tx.account_id,
        is_fraud=True,
    )
    scored = read_topic(f"{STREAMS['payments'].app_id}-payments-scored-changelog")

    def on_changelog(*fragments: bytes) -> bool:
        ours = (m.value() or b"" for m in scored.poll(1.0) if m.key() and tx.event_id.encode() in m.key())
        return any(all(f in value for f in fragments) for value in ours)

    producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
    producer.flush()
    wait_for(lambda: on_changelog(b'"score"'), 120, "the transaction scored, its decision waiting for the log")
    producer.send(PAYMENTS_LABELS, label.account_id, label)
    producer.flush()
    wait_for(lambda: on_changelog(b'"labelled":true'), 120, "the label learned, its write waiting for the log")
    stuck.kill()
    assert count_by_id(INDEX, [tx.event_id]) == {}, "nothing was logged before the crash"
    worker = start_worker("payments")
    wait_for(lambda: count_by_id(INDEX, [tx.event_id]) == {tx.event_id: 1}, 240, "the decision after the restart")
    labelled = label_index("payments")
    wait_for(lambda: es.exists(index=labelled, id=tx.event_id), 60, "the labelled decision after the restart")
    assert es.get(index=labelled, id=tx.event_id)["_source"]["actual"] == "fraud"
    assert worker.alive(), worker.log()
