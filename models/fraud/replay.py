"""Offline replay of simulated traffic through the online feature code, in arrival order.

Transactions and label arrivals are interleaved by time exactly as the streaming worker would see them, so training
features equal serving features and a label reaches state (and the online model) only once it has arrived. The online
model is scored before it learns: its scores are prequential.
"""

from dataclasses import dataclass, field

import numpy as np

from streamsense.datasets.fraud_simulator import START, SimulatedPayments, timeline
from streamsense.models.fraud.features import FraudFeaturePipeline, new_key_state
from streamsense.models.fraud.online import OnlineFraudModel


@dataclass
class ReplayResult:
    """Feature matrix (rows in transaction order), prequential online scores and the final states."""

    X: np.ndarray
    online_score: np.ndarray
    names: list[str]
    pipeline: FraudFeaturePipeline
    online: OnlineFraudModel | None
    account_states: dict[int, dict] = field(default_factory=dict)
    terminal_states: dict[int, dict] = field(default_factory=dict)


def replay(
    sim: SimulatedPayments, pipeline: FraudFeaturePipeline, online: OnlineFraudModel | None = None
) -> ReplayResult:
    """Compute every transaction's features from state before it; feed labels to state and model on arrival."""
    names = pipeline.names
    n = len(sim)
    X = np.zeros((n, len(names)), dtype=np.float64)
    online_score = np.zeros(n, dtype=np.float64)
    base = START.timestamp()
    ts_all = (sim.time_s + base).tolist()
    label_ts_all = (sim.label_time_s + base).tolist()
    amounts = sim.amount.tolist()
    customers = sim.customer.tolist()
    terminals = sim.terminal.tolist()
    fraud = sim.is_fraud.tolist()
    cxy = sim.customer_xy.tolist()
    txy = sim.terminal_xy.tolist()
    accounts: dict[int, dict] = {}
    terms: dict[int, dict] = {}
    rows: list[list[float] | None] = [None] * n
    for code in timeline(sim).tolist():
        if code >= 0:
            c, t = customers[code], terminals[code]
            acct = accounts.get(c) or accounts.setdefault(c, new_key_state())
            term = terms.get(t) or terms.setdefault(t, new_key_state())
            coords = (cxy[c][0], cxy[c][1], txy[t][0], txy[t][1])
            row = pipeline.transform_one(ts_all[code], amounts[code], acct, term, coords)
            rows[code] = row
            if online is not None:
                online_score[code] = online.predict_proba_one(dict(zip(names, row, strict=True)))
            pipeline.learn_one(ts_all[code], amounts[code], acct, term)
        else:
            i = -code - 1
            pipeline.learn_label(label_ts_all[i], fraud[i], accounts[customers[i]], terms[terminals[i]])
            if online is not None:
                online.learn_one(dict(zip(names, rows[i], strict=True)), fraud[i])
    X[:] = rows
    return ReplayResult(X, online_score, names, pipeline, online, accounts, terms)
