"""The drift job's proof data: 14 simulated payment days scored as the payments agent would, with every amount
multiplied by 1.6 from day 11 on (a known shift), and their labels. The drift integration test and
``bench/drift_proof.py`` log the same decisions."""

from datetime import timedelta

from streamsense.cli.produce import payments_traffic
from streamsense.datasets.fraud_simulator import START
from streamsense.models.drift.run import Window
from streamsense.models.fraud.features import FeatureConfig, FraudFeaturePipeline
from streamsense.models.fraud.online import OnlineFraudModel
from streamsense.models.fraud.scorer import FraudScorer, new_account_state, new_terminal_state
from streamsense.schemas.base import ModelRef, Reason
from streamsense.schemas.payments import PaymentDecision, Transaction
from streamsense.streams.decision_log import decision_action
from streamsense.streams.drift_labels import label_action

MODEL = "drift-proof-fraud"
SHIFT_DAY, AMOUNT_FACTOR = 11, 1.6
REFERENCE = Window(start=START + timedelta(days=8), end=START + timedelta(days=SHIFT_DAY))
CURRENT = Window(start=START + timedelta(days=SHIFT_DAY), end=START + timedelta(days=14))


def decisions_and_labels(seed: int) -> tuple[list[dict], list[dict]]:
    """Score 14 simulated days as the payments agent would; bulk actions for days 8–13 and their labels."""
    scorer = FraudScorer(FraudFeaturePipeline(FeatureConfig(windows=(1, 7))), OnlineFraudModel())
    accounts: dict[str, dict] = {}
    terminals: dict[str, dict] = {}
    scored: dict[str, tuple[dict, str, PaymentDecision]] = {}
    decisions, labels = [], []
    for _, _, event in payments_traffic(seed, 300, 600, 14):
        if isinstance(event, Transaction):
            tx = event
            if tx.event_time >= CURRENT.start:
                tx = tx.model_copy(update={"amount": round(tx.amount * AMOUNT_FACTOR, 2)})
            account = accounts.setdefault(tx.account_id, new_account_state())
            terminal = terminals.setdefault(tx.terminal_id, new_terminal_state())
            score = scorer.score_many([tx], [account], [terminal])[0]
            decision = PaymentDecision(
                event_id=tx.event_id,
                event_time=tx.event_time,
                decided_at=tx.event_time,
                key=tx.account_id,
                model=ModelRef(name=MODEL, version=score.model_version),
                score=score.score,
                label="fraud" if score.is_fraud else "legit",
                threshold=score.threshold,
                reasons=[Reason(feature=f, value=v, contribution=c) for f, v, c in score.reasons],
                features={"amount": tx.amount, "terminal_id": tx.terminal_id, **score.features},
                latency_ms=0.1,
            )
            scored[tx.event_id] = (score.features, tx.terminal_id, decision)
            if tx.event_time >= REFERENCE.start:
                decisions.append(decision_action(decision))
        elif event.transaction_id in scored:
            features, terminal_id, decision = scored.pop(event.transaction_id)
            scorer.update_label_state(event, accounts[event.account_id])
            scorer.update_label_state(event, terminals[terminal_id])
            scorer.learn_one(features, event.is_fraud)
            if decision.event_time >= REFERENCE.start:
                actual = "fraud" if event.is_fraud else "legit"
                labels.append(label_action(decision, actual, event.event_time, positive=event.is_fraud))
    return decisions, labels
