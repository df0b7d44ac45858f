import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from streamsense.models.fraud.artifact import save
from streamsense.models.fraud.features import FraudFeaturePipeline
from streamsense.models.fraud.online import OnlineFraudModel
from streamsense.models.fraud.registry import FraudModelRegistry
from streamsense.models.fraud.scorer import (
    COLD_START_VERSION,
    FraudScorer,
    new_account_state,
    new_terminal_state,
)
from streamsense.schemas.payments import Transaction, TransactionLabel

START = datetime(2026, 5, 1, 9, tzinfo=UTC)


def _tx(i: int, amount: float, account: str = "C1", terminal: str = "T1") -> Transaction:
    return Transaction(
        event_id=f"tx-{i}",
        event_time=START + timedelta(minutes=30 * i),
        account_id=account,
        terminal_id=terminal,
        amount=amount,
        customer_x=10,
        customer_y=10,
        terminal_x=12,
        terminal_y=11,
    )


def _warm_scorer(registry: FraudModelRegistry | None = None) -> FraudScorer:
    scorer = FraudScorer(FraudFeaturePipeline(), OnlineFraudModel(fraud_share=0.5), registry)
    acct, term = new_account_state(), new_terminal_state()
    for i in range(60):
        tx = _tx(i, 500.0 if i % 6 == 0 else 20.0)
        score = scorer.score_one(tx, acct, term)
        scorer.update_state(tx, acct, term)
        scorer.learn_one(score.features, i % 6 == 0)
    return scorer


def test_cold_start_scores_with_the_online_model_and_its_weight_reasons() -> None:
    scorer = _warm_scorer()
    acct, term = new_account_state(), new_terminal_state()
    result = scorer.score_one(_tx(100, 480.0), acct, term)
    assert result.model_version == COLD_START_VERSION
    assert result.score == pytest.approx(1 / (1 + math.exp(-result.online_logit)))
    assert len(result.reasons) == scorer.top_k
    contribs, bias = scorer.online.contributions(result.features)
    assert sum(contribs.values()) + bias == pytest.approx(result.online_logit, abs=1e-6)
    assert scorer.score_one(_tx(101, 480.0), acct, term).score > scorer.score_one(_tx(101, 20.0), acct, term).score


def test_with_an_artifact_reasons_are_xgb_contributions_and_score_is_the_blend(tmp_path: Path, tiny_artifact) -> None:
    save(tiny_artifact, tmp_path)
    scorer = _warm_scorer(FraudModelRegistry(tmp_path, check_every_s=0.0))
    acct, term = new_account_state(), new_terminal_state()
    result = scorer.score_one(_tx(7, 42.0), acct, term)
    assert result.model_version == "v0001"
    assert result.threshold == tiny_artifact.threshold
    m, contribs = tiny_artifact.compiled.margin_and_contribs([list(result.features.values())])
    assert result.score == pytest.approx(tiny_artifact.blend.score(result.online_logit, float(m[0])))
    top = max(range(len(contribs[0])), key=lambda i: abs(contribs[0][i]))
    assert result.reasons[0][0] == scorer.pipeline.names[top]
    assert result.reasons[0][2] == pytest.approx(contribs[0][top])


def test_score_many_equals_score_one_then_update_state_in_order(tmp_path: Path, tiny_artifact) -> None:
    save(tiny_artifact, tmp_path)
    txs = [_tx(200 + i, 10.0 + i, account=f"C{i % 2}") for i in range(6)]
    one = _warm_scorer(FraudModelRegistry(tmp_path, check_every_s=0.0))
    states = {"C0": new_account_state(), "C1": new_account_state(), "T1": new_terminal_state()}
    singles = []
    for tx in txs:
        singles.append(one.score_one(tx, states[tx.account_id], states["T1"]))
        one.update_state(tx, states[tx.account_id], states["T1"])
    many = _warm_scorer(FraudModelRegistry(tmp_path, check_every_s=0.0))
    states2 = {"C0": new_account_state(), "C1": new_account_state(), "T1": new_terminal_state()}
    batch = many.score_many(txs, [states2[t.account_id] for t in txs], [states2["T1"]] * len(txs))
    assert [s.score for s in batch] == pytest.approx([s.score for s in singles])
    assert states2 == states


def test_labels_update_key_state_and_the_online_model_and_state_serialises(tmp_path: Path) -> None:
    scorer = _warm_scorer()
    acct, term = new_account_state(), new_terminal_state()
    tx = _tx(300, 35.0)
    result = scorer.score_one(tx, acct, term)
    scorer.update_state(tx, acct, term)
    label = TransactionLabel(
        event_id="lbl-300",
        event_time=tx.event_time + timedelta(days=2),
        transaction_id=tx.event_id,
        account_id=tx.account_id,
        is_fraud=True,
    )
    learned = scorer.online.n_learned
    scorer.update_label_state(label, acct)
    scorer.update_label_state(label, term)
    scorer.learn_one(json.loads(orjson.dumps(result.features)), label.is_fraud)
    assert acct["te"] == [1, 1] and term["te"] == [1, 1]
    assert scorer.online.n_learned == learned + 1
    assert json.loads(orjson.dumps(acct)) == acct
    path = tmp_path / "online.pkl"
    scorer.online.save(path)
    assert OnlineFraudModel.load(path).predict_proba_one(result.features) == scorer.online.predict_proba_one(
        result.features
    )


def test_audit_attributes_never_influence_the_score() -> None:
    scorer = _warm_scorer()
    scores = set()
    for age_band, gender in (("18-25", "female"), ("60+", "male"), (None, None)):
        tx = _tx(400, 55.0).model_copy(update={"age_band": age_band, "gender": gender})
        scores.add(scorer.score_one(tx, new_account_state(), new_terminal_state()).score)
    assert len(scores) == 1
    assert not any("age" in n or "gender" in n for n in scorer.pipeline.names)


def test_from_artifacts_without_any_artifact_starts_cold(tmp_path: Path) -> None:
    scorer = FraudScorer.from_artifacts(tmp_path, cold_threshold=0.7)
    result = scorer.score_one(_tx(1, 10.0), new_account_state(), new_terminal_state())
    assert (result.model_version, result.threshold) == (COLD_START_VERSION, 0.7)


def test_scoring_an_empty_batch_returns_no_scores_with_or_without_an_artifact(tmp_path: Path, tiny_artifact) -> None:
    assert _warm_scorer().score_summarized([], [], []) == []
    save(tiny_artifact, tmp_path)
    assert _warm_scorer(FraudModelRegistry(tmp_path, check_every_s=0.0)).score_summarized([], [], []) == []


def test_two_stage_scoring_equals_scoring_with_both_states(tmp_path: Path, tiny_artifact) -> None:
    save(tiny_artifact, tmp_path)
    one, two = (_warm_scorer(FraudModelRegistry(tmp_path, check_every_s=0.0)) for _ in range(2))
    txs = [_tx(i, 10.0 + 7 * i) for i in range(20)]
    acct1, term1, acct2, term2 = (new_account_state() for _ in range(4))
    together = one.score_many(txs, [acct1] * len(txs), [term1] * len(txs))
    summaries = two.summarize_accounts(txs, [acct2] * len(txs))
    staged = two.score_summarized(txs, summaries, [term2] * len(txs))
    assert [s.score for s in staged] == [s.score for s in together]
    assert [s.reasons for s in staged] == [s.reasons for s in together]
    assert (acct2, term2) == (acct1, term1)


def test_an_amount_in_another_currency_is_scored_in_euros_and_one_without_a_rate_is_unusable() -> None:
    scorer = _warm_scorer()
    scorer.currency_rates = {"EUR": 1.0, "JPY": 0.0058}
    yen = _tx(100, 50_000.0).model_copy(update={"currency": "JPY"})
    euros = _tx(100, 50_000.0 * 0.0058)
    assert scorer.unusable(yen) is None and scorer.amount(yen) == pytest.approx(290.0)
    in_yen = scorer.score_one(yen, new_account_state(), new_terminal_state())
    in_euros = scorer.score_one(euros, new_account_state(), new_terminal_state())
    assert in_yen.features == pytest.approx(in_euros.features) and in_yen.score == pytest.approx(in_euros.score)
    account, terminal = new_account_state(), new_terminal_state()
    scorer.update_state(yen, account, terminal)
    assert account["s"] == [pytest.approx(290.0)]
    reason = scorer.unusable(_tx(101, 20.0).model_copy(update={"currency": "USD"}))
    assert reason is not None and "USD" in reason and "STREAMSENSE_FRAUD_CURRENCY_RATES" in reason
