"""The payments decision path end to end, on the real broker and node."""

import shutil
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import psutil
import pytest

from streamsense.schemas.payments import TerminalLabel, Transaction, TransactionLabel
from streamsense.streams.fairness_query import fairness_counts
from streamsense.streams.readiness import READY_PATH
from streamsense.streams.topics import (
    PAYMENTS_DECISIONS,
    PAYMENTS_LABELS,
    PAYMENTS_SCORING,
    PAYMENTS_TERMINAL_LABELS,
    PAYMENTS_TRANSACTIONS,
    dlq_topic,
    label_index,
)

pytestmark = pytest.mark.integration
INDEX = "streamsense-decisions-payments"
GROUP = "streamsense-payments"


def make_tx(run: str, n: int, account: str | None = None, amount: float = 35.0) -> Transaction:
    return Transaction(
        event_id=f"{run}-tx-{n}",
        event_time=datetime(2026, 4, 1, 14, 30, tzinfo=UTC),
        account_id=account or f"{run}-acct-{n % 50}",
        terminal_id=f"{run}-term-{n % 20}",
        amount=amount,
    )


def send_labels(producer, run: str, txs: list[Transaction], arrived: datetime) -> None:
    """Label every even-numbered transaction fraud and the rest genuine, all arriving at ``arrived``."""
    for n, tx in enumerate(txs):
        label = TransactionLabel(
            event_id=f"{run}-label-{n}",
            event_time=arrived,
            transaction_id=tx.event_id,
            account_id=tx.account_id,
            is_fraud=n % 2 == 0,
        )
        producer.send(PAYMENTS_LABELS, label.account_id, label)
    producer.flush()


def run_id() -> str:
    return uuid.uuid4().hex[:10]


def test_transaction_becomes_a_decision_on_the_topic_and_in_elasticsearch(
    start_worker, producer, read_topic, es, wait_for
):
    worker = start_worker("payments")
    tx = make_tx(run_id(), 1)
    producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
    producer.flush()
    decisions = read_topic(PAYMENTS_DECISIONS)

    def decided() -> bool:
        return any(orjson.loads(m.value())["event_id"] == tx.event_id for m in decisions.poll(1.0))

    wait_for(decided, 240, "the decision on payments.decisions")
    message = next(m for m in decisions.messages if orjson.loads(m.value())["event_id"] == tx.event_id)
    assert message.key() == tx.account_id.encode()
    decision = orjson.loads(message.value())
    assert decision["label"] in ("fraud", "legit")
    assert 0.0 <= decision["score"] <= 1.0
    assert decision["model"]["name"] and decision["latency_ms"] >= 0
    wait_for(lambda: es.exists(index=INDEX, id=tx.event_id).body, 60, "the decision document")
    doc = es.get(index=INDEX, id=tx.event_id)["_source"]
    assert doc["event_id"] == tx.event_id
    assert doc["score"] == decision["score"]
    assert worker.alive()


def test_sigkill_mid_stream_loses_no_decision_and_duplicates_none_in_the_log(
    start_worker, producer, read_topic, count_by_id, wait_for
):
    run = run_id()
    txs = [make_tx(run, n) for n in range(1000)]
    ids = [tx.event_id for tx in txs]
    worker = start_worker("payments")

    def send_all() -> None:
        for tx in txs:
            producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
            time.sleep(0.005)
        producer.flush()

    # the worker keeps up with this rate, so it is killed while the transactions are still arriving (once it is
    # ready: sent while it starts, they would wait as a backlog that it decides in a few seconds)
    wait_for(worker.ready, 120, "the worker to be ready")
    sender = threading.Thread(target=send_all)
    sender.start()
    wait_for(lambda: len(count_by_id(INDEX, ids)) >= 150, 240, "the first decisions", interval_s=0.2)
    worker.kill()
    logged_at_kill = len(count_by_id(INDEX, ids))
    sender.join()
    assert logged_at_kill < len(ids), "the worker finished before it could be killed mid-stream"
    restarted = start_worker("payments")
    try:
        wait_for(lambda: len(count_by_id(INDEX, ids)) == len(ids), 180, "every decision after the restart")
    except AssertionError as error:
        logged = len(count_by_id(INDEX, ids))
        raise AssertionError(f"{error}; {logged}/{len(ids)} logged; worker log: {restarted.log()}") from error
    counts = count_by_id(INDEX, ids)
    assert set(counts) == set(ids)
    assert set(counts.values()) == {1}
    decisions = read_topic(PAYMENTS_DECISIONS)
    seen: set[str] = set()

    def all_on_topic() -> bool:
        seen.update(orjson.loads(m.value())["event_id"] for m in decisions.poll(2.0))
        return set(ids) <= seen

    wait_for(all_on_topic, 240, "every decision on the topic")
    assert restarted.alive()


def test_bad_events_go_to_the_dead_letter_topic_with_a_reason_and_the_rest_is_decided(
    start_worker, producer, read_topic, es, count_by_id, wait_for, settings
):
    run = run_id()
    valid = [make_tx(run, n) for n in range(6)]
    good = orjson.loads(valid[0].model_dump_json())
    missing = {k: v for k, v in good.items() if k != "amount"}
    wrong_type = {**good, "amount": "a lot"}
    account = good["account_id"].encode()
    bad = {  # case: (message key, value), each case named in a header of its own
        f"{run}-malformed": (account, b'{"event_id": "oops", '),
        f"{run}-missing": (f"{run}-missing".encode(), orjson.dumps(missing)),
        f"{run}-wrongtype": (account, orjson.dumps(wrong_type)),
        f"{run}-oversized": (account, orjson.dumps({**good, "padding": "x" * (settings.max_event_bytes + 10)})),
        f"{run}-yen": (account, orjson.dumps({**good, "event_id": f"{run}-yen", "currency": "JPY"})),
        f"{run}-ahead": (
            account,
            orjson.dumps({**good, "event_id": f"{run}-ahead", "event_time": "2036-04-01T00:00:00Z"}),
        ),
        f"{run}-wrongkey": (f"{run}-tx".encode(), orjson.dumps({**good, "event_id": f"{run}-wrongkey"})),
        f"{run}-twice": (
            account,
            orjson.dumps({**good, "event_id": f"{run}-twice"})[:-1] + b',"amount":5000.0}',
        ),
    }
    worker = start_worker("payments")
    for tx in valid[:3]:
        producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
    for case, (key, raw) in bad.items():
        producer.send_raw(PAYMENTS_TRANSACTIONS, key, raw, [("case", case.encode())])
    for tx in valid[3:]:
        producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
    producer.flush()

    dead = read_topic(dlq_topic(PAYMENTS_TRANSACTIONS))
    letters: dict = {}

    def all_ours() -> bool:
        for m in dead.poll(1.0):
            case = dict(m.headers() or []).get("case", b"").decode()
            if case in bad:
                letters[case] = m
        return len(letters) == len(bad)

    wait_for(all_ours, 240, "all eight dead letters")
    kinds = {case: dict(m.headers())["dlq.error.kind"].decode() for case, m in letters.items()}
    assert kinds == {
        f"{run}-malformed": "malformed_json",
        f"{run}-missing": "missing_field",
        f"{run}-wrongtype": "invalid_field",
        f"{run}-oversized": "oversized",
        f"{run}-yen": "unusable",
        f"{run}-ahead": "invalid_field",
        f"{run}-wrongkey": "wrong_key",
        f"{run}-twice": "duplicate_key",
    }
    for case, message in letters.items():
        headers = dict(message.headers())
        assert (message.key(), message.value()) == bad[case], "the original key and bytes are kept"
        assert headers["dlq.error.reason"]
        assert int(headers["dlq.source.offset"]) >= 0
    assert b"amount" in dict(letters[f"{run}-missing"].headers())["dlq.error.reason"]
    assert b"currency JPY has no rate" in dict(letters[f"{run}-yen"].headers())["dlq.error.reason"]
    assert b"STREAMSENSE_MAX_EVENT_AHEAD_S" in dict(letters[f"{run}-ahead"].headers())["dlq.error.reason"]
    assert b"not its account_id" in dict(letters[f"{run}-wrongkey"].headers())["dlq.error.reason"]
    assert dict(letters[f"{run}-twice"].headers())["dlq.error.reason"].startswith(b'amount: the key "amount" is given')
    wait_for(lambda: len(count_by_id(INDEX, [t.event_id for t in valid])) == 6, 60, "the valid decisions")
    es.indices.refresh(index="streamsense-dlq")
    logged = es.count(index="streamsense-dlq", query={"terms": {"kind": ["oversized", "malformed_json"]}})["count"]
    assert logged >= 2

    def logged_ids_of_missing() -> list[str]:
        es.indices.refresh(index="streamsense-dlq")
        hits = es.search(index="streamsense-dlq", query={"term": {"key": f"{run}-missing"}})["hits"]["hits"]
        return [hit["_source"]["event_id"] for hit in hits]

    wait_for(lambda: logged_ids_of_missing() == [valid[0].event_id], 30, "the dead letter logged with its event id")
    assert worker.alive()


def test_a_reused_event_id_and_a_contradicting_label_are_dead_lettered_and_the_first_decision_and_label_stand(
    start_worker, producer, read_topic, es, wait_for, decide_payment
):
    run = run_id()
    worker = start_worker("payments")
    first = make_tx(run, 1)
    decide_payment(first, 240, "the first decision")
    decided = es.get(index=INDEX, id=first.event_id)["_source"]
    other_terminal = first.model_copy(update={"terminal_id": f"{run}-term-x"})  # refused where accounts are kept
    other_amount = first.model_copy(update={"amount": 4_999.0})  # refused where terminals are kept
    for tx in (other_terminal, other_amount):
        producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
    arrived = first.event_time + timedelta(days=1)
    for n, is_fraud in enumerate((True, False, True)):
        label = TransactionLabel(
            event_id=f"{run}-label-{n}",
            event_time=arrived,
            transaction_id=first.event_id,
            account_id=first.account_id,
            is_fraud=is_fraud,
        )
        producer.send(PAYMENTS_LABELS, label.account_id, label)
    producer.flush()
    tx_letters, label_letters = read_topic(dlq_topic(PAYMENTS_TRANSACTIONS)), read_topic(dlq_topic(PAYMENTS_LABELS))

    def ours(reader) -> dict[bytes, dict]:
        found = {}
        for m in reader.poll(1.0):
            if f'"event_id":"{run}'.encode() in (m.value() or b""):  # the other tests' letters hold other ids
                found[m.value()] = dict(m.headers())
        return found

    wait_for(lambda: len(ours(tx_letters)) == 2, 120, "both reused ids on the dead-letter topic")
    wait_for(lambda: len(ours(label_letters)) >= 1, 120, "the contradicting label on its dead-letter topic")
    reused = ours(tx_letters)
    assert set(reused) == {other_terminal.model_dump_json().encode(), other_amount.model_dump_json().encode()}
    assert {h["dlq.error.kind"] for h in reused.values()} == {b"reused_event_id"}
    assert all(b"is another transaction's" in h["dlq.error.reason"] for h in reused.values())
    time.sleep(3)  # the third label, a repeat of the first, is learned once: silently
    [(value, headers)] = ours(label_letters).items()
    assert orjson.loads(value)["event_id"] == f"{run}-label-1"
    assert headers["dlq.error.kind"] == b"contradicting_label"
    assert b"was labelled fraud already" in headers["dlq.error.reason"]
    assert worker.alive()
    kept = es.get(index=INDEX, id=first.event_id)["_source"]
    assert (kept["score"], kept["features"]["amount"], kept["features"]["terminal_id"]) == (
        decided["score"],
        first.amount,
        first.terminal_id,
    )
    wait_for(lambda: es.exists(index=label_index("payments"), id=first.event_id), 60, "the labelled decision")
    assert es.get(index=label_index("payments"), id=first.event_id)["_source"]["actual"] == "fraud"


def test_a_minute_long_elasticsearch_outage_under_load_applies_back_pressure_bounds_memory_and_loses_nothing(
    start_worker, producer, infra, count_by_id, wait_for, decide_payment
):
    run = run_id()
    txs = [make_tx(run, n) for n in range(3_000)]
    ids = [tx.event_id for tx in txs]
    worker = start_worker("payments")
    warmup = make_tx(run, 10_000)
    decide_payment(warmup, 240, "the worker to be ready")
    rss_before = psutil.Process(worker.proc.pid).memory_info().rss
    infra.stop("elasticsearch")
    try:
        for tx in txs:
            producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
            time.sleep(60 / len(txs))
        producer.flush()
        assert worker.alive(), worker.log()
        grown_mib = (psutil.Process(worker.proc.pid).memory_info().rss - rss_before) / 2**20
    finally:
        infra.start_elasticsearch()
    assert grown_mib < 150, f"the worker grew {grown_mib:.0f} MiB while Elasticsearch was down"
    wait_for(lambda: len(count_by_id(INDEX, ids)) == len(ids), 240, "every decision after the outage")
    assert set(count_by_id(INDEX, ids).values()) == {1}
    assert worker.alive()


def test_labels_that_arrive_after_their_transactions_left_the_tables_teach_the_cold_online_model(
    start_worker, producer, es, count_by_id, caught_up, wait_for, settings, tmp_path
):
    """A cold worker (no trained artifact) learns online from labels: night-time large amounts were fraud, daytime
    small ones genuine; afterwards a new fraud-like transaction outscores a new genuine-like one, and its own cold
    score. The labels come after the worker expired the transactions from its tables (``fraud_recent_s`` of 0), so
    what they need is read back from Elasticsearch."""
    run = run_id()

    def shaped(n: int, fraud: bool) -> Transaction:
        tx = make_tx(run, n, account=f"{run}-acct-{n}", amount=870.0 if fraud else 35.0)
        hour = 2 if fraud else 14
        when = datetime(2026, 4, 1, hour, 30, tzinfo=UTC)
        return tx.model_copy(update={"event_time": when, "gender": ("female", "male")[n % 4 // 2]})

    history = [shaped(n, fraud=n % 2 == 0) for n in range(120)]
    overrides = {"cache_dir": tmp_path / "no-artifacts", "fraud_recent_s": 0.0, "fraud_expiry_check_s": 1.0}
    worker = start_worker("payments", settings.model_copy(update=overrides))
    for tx in history:
        producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
    producer.flush()
    ids = [tx.event_id for tx in history]
    wait_for(lambda: len(count_by_id(INDEX, ids)) == len(ids), 240, "the first decisions")
    cold = {i: es.get(index=INDEX, id=i)["_source"] for i in ids}
    assert {d["model"]["version"] for d in cold.values()} == {"online-only"}

    def expired() -> dict[str, float]:
        return {
            table: worker.metric(f'streamsense_table_expired_total{{table="{table}"}}')
            for table in ("payments-account-pending", "payments-scored")
        }

    committed = (PAYMENTS_TRANSACTIONS, PAYMENTS_SCORING)
    wait_for(lambda: all(caught_up(GROUP, topic) for topic in committed), 60, "both stages to commit")
    seen: list[dict[str, float]] = []

    def settled() -> bool:
        """Expiry passes run every second: counts unchanged over 3 s after the commits mean ours are expired too
        (entries restored from earlier tests' changelogs expire as well, so a count alone would not show it)."""
        seen.append(expired())
        return len(seen) > 6 and seen[-1] == seen[-7] and min(seen[-1].values()) >= len(history)

    wait_for(settled, 60, "the tables to expire the scored transactions")
    send_labels(producer, run, history, datetime(2026, 4, 8, tzinfo=UTC))
    wait_for(lambda: caught_up(GROUP, PAYMENTS_LABELS), 60, "the labels to be learned and committed")
    fraud_like, genuine_like = shaped(1000, fraud=True), shaped(1001, fraud=False)
    for tx in (fraud_like, genuine_like):
        producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
    producer.flush()
    later = [fraud_like.event_id, genuine_like.event_id]
    wait_for(lambda: len(count_by_id(INDEX, later)) == 2, 60, "the decisions after the labels")
    fraud_score, genuine_score = (es.get(index=INDEX, id=i)["_source"]["score"] for i in later)
    assert fraud_score > genuine_score
    assert fraud_score > max(cold[tx.event_id]["score"] for tx in history if tx.amount > 100)
    labelled = label_index("payments")
    es.indices.refresh(index=labelled)
    docs = {
        hit["_id"]: hit["_source"]
        for hit in es.search(index=labelled, size=200, query={"terms": {"_id": ids}})["hits"]["hits"]
    }
    assert set(docs) == set(ids), "every labelled decision is stored with its outcome"
    assert all(docs[tx.event_id]["positive"] == (tx.amount > 100) for tx in history)
    assert all(docs[tx.event_id]["score"] == cold[tx.event_id]["score"] for tx in history)
    by_gender = fairness_counts(es, labelled, "gender")
    assert sum(map(sum, by_gender.values())) >= len(history)


def test_a_retrained_fraud_model_appears_in_decisions_without_a_restart(
    start_worker, es, settings, tmp_path, decide_payment
):
    trained = sorted((settings.artifact_dir / "fraud").glob("v[0-9]*"))
    if not trained:
        pytest.fail("no trained fraud model: `make test` trains one (streamsense train fraud --if-missing)")
    run = run_id()
    cache = tmp_path / "cache"
    (cache / "artifacts" / "fraud").mkdir(parents=True)
    worker = start_worker("payments", settings.model_copy(update={"cache_dir": cache, "fraud_model_check_s": 1.0}))
    cold = make_tx(run, 0)
    decide_payment(cold, 240, "the cold decision")
    assert es.get(index=INDEX, id=cold.event_id)["_source"]["model"]["version"] == "online-only"
    staging = cache / "staging"
    shutil.copytree(trained[-1], staging)
    staging.rename(cache / "artifacts" / "fraud" / trained[-1].name)  # appears atomically, as training publishes
    time.sleep(2)
    warm = make_tx(run, 1)
    decide_payment(warm, 60, "the decision after the new version")
    decision = es.get(index=INDEX, id=warm.event_id)["_source"]
    assert decision["model"]["version"] == trained[-1].name
    assert len(decision["reasons"]) >= 3
    assert worker.alive()


def test_worker_serves_prometheus_metrics_of_what_it_processed_and_answers_ready_once_deciding(
    start_worker, producer, count_by_id, wait_for
):
    run = run_id()
    txs = [make_tx(run, n) for n in range(20)]
    worker = start_worker("payments")
    for tx in txs:
        producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
    producer.send_raw(PAYMENTS_TRANSACTIONS, f"{run}-bad".encode(), b"{oops")
    producer.flush()
    wait_for(lambda: len(count_by_id(INDEX, [t.event_id for t in txs])) == len(txs), 240, "the decisions")

    wait_for(lambda: "streamsense_consumer_lag{" in worker.metrics(), 30, "the lag gauge")
    text = worker.metrics()
    assert worker.metric('streamsense_events_processed_total{stream="payments"}') >= len(txs) + 1
    assert 'streamsense_dlq_events_total{topic="payments.transactions.dlq"}' in text
    assert 'inference_latency_seconds_bucket{le="0.005",model="fraud-xgboost-river-blend",stage="decide"}' in text
    assert "streamsense_es_queue_depth" in text
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.web_port}{READY_PATH}", timeout=5) as response:
        assert response.status == 200
        assert orjson.loads(response.read())["assigned_partitions"] > 0


def test_the_worker_retrains_xgboost_from_the_labels_it_learned_and_swaps_it_in_without_a_restart(
    start_worker, producer, es, count_by_id, wait_for, settings, tmp_path
):
    run = run_id()

    def shaped(n: int, fraud: bool) -> Transaction:
        tx = make_tx(run, n, account=f"{run}-acct-{n % 40}", amount=(600.0 + n % 300) if fraud else (20.0 + n % 50))
        hour = 2 + n % 3 if fraud else 10 + n % 8
        day = timedelta(days=n // 60 % 20)
        return tx.model_copy(update={"event_time": datetime(2026, 4, 1, hour, 30, tzinfo=UTC) + day})

    history = [shaped(n, fraud=n % 2 == 0) for n in range(240)]
    overrides = {
        "cache_dir": tmp_path / "cold",
        "fraud_retrain_every_s": 3.0,
        "fraud_retrain_min_labels": 200,
        "fraud_retrain_min_frauds": 20,
    }
    start_worker("payments", settings.model_copy(update={**overrides, "fraud_model_check_s": 1.0}))
    for tx in history:
        producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
    producer.flush()
    ids = [tx.event_id for tx in history]
    wait_for(lambda: len(count_by_id(INDEX, ids)) == len(ids), 240, "the cold decisions")
    send_labels(producer, run, history, datetime(2026, 4, 20, tzinfo=UTC))
    probe = 0

    def retrained_version_decides() -> bool:
        nonlocal probe
        probe += 1
        tx = shaped(10_000 + probe, fraud=True)
        producer.send(PAYMENTS_TRANSACTIONS, tx.account_id, tx)
        producer.flush()
        time.sleep(2)
        found = count_by_id(INDEX, [tx.event_id])
        return bool(found) and es.get(index=INDEX, id=tx.event_id)["_source"]["model"]["version"] != "online-only"

    wait_for(retrained_version_decides, 240, "a decision by the version the worker retrained", interval_s=1.0)
    assert list((tmp_path / "cold" / "artifacts" / "fraud").glob("v0001"))


def test_an_early_label_is_learned_with_its_transaction_and_one_whose_transaction_never_comes_is_dead_lettered(
    start_worker, producer, read_topic, es, wait_for, decide_payment, caught_up, settings
):
    run = run_id()
    worker = start_worker(
        "payments", settings.model_copy(update={"fraud_early_label_wait_s": 8.0, "fraud_expiry_check_s": 1.0})
    )
    decide_payment(make_tx(run, 0), 240, "the worker deciding")
    tx = make_tx(run, 1)
    arrived = tx.event_time + timedelta(days=1)
    early, orphan = (
        TransactionLabel(
            event_id=f"{run}-label-{n}",
            event_time=arrived,
            transaction_id=transaction_id,
            account_id=tx.account_id,
            is_fraud=n == 1,
        )
        for n, transaction_id in ((1, tx.event_id), (2, f"{run}-tx-never"))
    )
    letters = read_topic(dlq_topic(PAYMENTS_LABELS))
    for label in (early, orphan, early):  # the repeat waits once, silently
        producer.send(PAYMENTS_LABELS, label.account_id, label)
    producer.flush()
    wait_for(lambda: caught_up(GROUP, PAYMENTS_LABELS), 120, "the labels taken before their transaction")
    decide_payment(tx, 120, "the transaction after its label")

    wait_for(lambda: es.exists(index=label_index("payments"), id=tx.event_id), 60, "the labelled decision")
    assert es.get(index=label_index("payments"), id=tx.event_id)["_source"]["actual"] == "fraud"
    ours: dict[str, dict] = {}

    def orphan_dead_lettered() -> bool:
        for m in letters.poll(1.0):
            if f'"event_id":"{run}'.encode() in (m.value() or b""):  # the other tests' letters hold other ids
                ours[orjson.loads(m.value())["event_id"]] = dict(m.headers())
        return orphan.event_id in ours

    wait_for(orphan_dead_lettered, 90, "the label whose transaction never came on the dead-letter topic")
    assert ours[orphan.event_id]["dlq.error.kind"] == b"no_transaction"
    assert f"no transaction {run}-tx-never".encode() in ours[orphan.event_id]["dlq.error.reason"]
    time.sleep(3)
    assert early.event_id not in ours, "the label its transaction took along is learned, not dead-lettered"
    assert worker.alive()


def test_a_label_that_reaches_the_terminal_stage_before_its_scoring_request_waits_for_it_and_is_learned_once(
    start_worker, producer, read_topic, es, wait_for, decide_payment, caught_up, settings
):
    """The account stage hands a label to the terminal stage while the scoring request it handed on earlier is
    still behind on ``payments.scoring``: sent straight to the internal topic before its transaction, the label is
    taken that way for sure. It waits, is learned when the transaction is scored, and logged; a repeat waits once,
    a contradicting one is dead-lettered, and one whose transaction is never scored is dead-lettered once the wait
    is over, the wait named."""
    run = run_id()
    worker = start_worker(
        "payments", settings.model_copy(update={"fraud_early_label_wait_s": 8.0, "fraud_expiry_check_s": 1.0})
    )
    terminal = f"{run}-term-race"
    genuine_tx, raced_tx, probe = (make_tx(run, n).model_copy(update={"terminal_id": terminal}) for n in (1, 2, 3))
    arrived = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
    decide_payment(genuine_tx, 240, "the worker deciding")
    genuine = TransactionLabel(
        event_id=f"{run}-label-1",
        event_time=arrived,
        transaction_id=genuine_tx.event_id,
        account_id=genuine_tx.account_id,
        is_fraud=False,
    )
    producer.send(PAYMENTS_LABELS, genuine.account_id, genuine)
    producer.flush()
    wait_for(lambda: es.exists(index=label_index("payments"), id=genuine_tx.event_id), 60, "the genuine label learned")

    def handed(n: int, transaction_id: str, is_fraud: bool) -> TerminalLabel:
        label = TransactionLabel(
            event_id=f"{run}-label-{n}",
            event_time=arrived,
            transaction_id=transaction_id,
            account_id=raced_tx.account_id,
            is_fraud=is_fraud,
        )
        return TerminalLabel(label=label, terminal_id=terminal)

    raced, contradicting, orphan = (
        handed(2, raced_tx.event_id, True),
        handed(3, raced_tx.event_id, False),
        handed(4, f"{run}-tx-never", True),
    )
    letters = read_topic(dlq_topic(PAYMENTS_TERMINAL_LABELS))
    for terminal_label in (raced, raced, contradicting, orphan):  # the repeat waits once, silently
        producer.send_raw(PAYMENTS_TERMINAL_LABELS, terminal.encode(), terminal_label.model_dump_json().encode())
    producer.flush()
    wait_for(lambda: caught_up(GROUP, PAYMENTS_TERMINAL_LABELS), 120, "the labels taken before their scoring request")
    decide_payment(raced_tx, 120, "the transaction after its label")

    wait_for(lambda: es.exists(index=label_index("payments"), id=raced_tx.event_id), 60, "the labelled decision")
    assert es.get(index=label_index("payments"), id=raced_tx.event_id)["_source"]["actual"] == "fraud"
    decide_payment(probe.model_copy(update={"event_time": arrived + timedelta(hours=6)}), 60, "the probe decision")
    # the terminal has learned two labels, one fraud: learned twice, the raced label would make it 2 of 3
    assert es.get(index=INDEX, id=probe.event_id)["_source"]["features"]["terminal_fraud_rate_7d"] == 0.5
    ours: dict[str, dict] = {}

    def orphan_dead_lettered() -> bool:
        for m in letters.poll(1.0):
            if f'"event_id":"{run}'.encode() in (m.value() or b""):  # the other tests' letters hold other ids
                ours[TerminalLabel.model_validate_json(m.value()).label.event_id] = dict(m.headers())
        return orphan.label.event_id in ours

    wait_for(orphan_dead_lettered, 90, "the label whose transaction is never scored on the dead-letter topic")
    assert ours[orphan.label.event_id]["dlq.error.kind"] == b"not_scored"
    assert b"within 8 s" in ours[orphan.label.event_id]["dlq.error.reason"]
    assert b"STREAMSENSE_FRAUD_EARLY_LABEL_WAIT_S" in ours[orphan.label.event_id]["dlq.error.reason"]
    assert ours[contradicting.label.event_id]["dlq.error.kind"] == b"contradicting_label"
    time.sleep(3)
    orphan_dead_lettered()
    assert raced.label.event_id not in ours, "the label that waited for its scoring is learned, not dead-lettered"
    assert worker.alive()
