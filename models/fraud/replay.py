"""Offline replay of simulated traffic through the online feature code, in arrival order.

Transactions and label arrivals are interleaved by time exactly as the streaming worker would see them, so training
features equal serving features and a label reaches state (and the online model) only once it has arrived. The online
model is scored before it learns: its scores are prequential.

Chosen transactions are also scored as if their account, or their account and terminal, had no history (``COLD``):
the same event on a new card, at a known or a new shop. Their label is the transaction's own, since a scenario's fraud
does not depend on what the scorer has seen of the card; the copies teach the booster and measure the cold start.
"""

from dataclasses import dataclass, field

import numpy as np

from streamsense.datasets.fraud_simulator import START, SimulatedPayments, timeline
from streamsense.models.fraud.features import COLD, FraudFeaturePipeline, new_key_state
from streamsense.models.fraud.online import OnlineFraudModel


@dataclass
class ColdCopies:
    """Rows ``index`` of the stream scored as new: per kind of ``COLD``, feature rows and prequential online scores."""

    index: np.ndarray
    X: dict[str, np.ndarray]
    online_score: dict[str, np.ndarray]


@dataclass
class ReplayResult:
    """Feature matrix (rows in transaction order), prequential online scores, cold copies and the final states."""

    X: np.ndarray
    online_score: np.ndarray
    names: list[str]
    pipeline: FraudFeaturePipeline
    online: OnlineFraudModel | None
    cold: ColdCopies
    account_states: dict[int, dict] = field(default_factory=dict)
    terminal_states: dict[int, dict] = field(default_factory=dict)


def replay(
    sim: SimulatedPayments,
    pipeline: FraudFeaturePipeline,
    online: OnlineFraudModel | None = None,
    cold: np.ndarray | None = None,
) -> ReplayResult:
    """Compute every transaction's features from state before it; feed labels to state and model on arrival.
    Transactions where the boolean mask ``cold`` is set are also scored as new (see ``COLD``)."""
    names = pipeline.names
    n = len(sim)
    X = np.zeros((n, len(names)), dtype=np.float64)
    online_score = np.zeros(n, dtype=np.float64)
    cold_index = np.flatnonzero(cold) if cold is not None else np.zeros(0, dtype=np.int64)
    cold_slot = dict(zip(cold_index.tolist(), range(len(cold_index)), strict=True))
    cold_rows = {kind: np.zeros((len(cold_index), len(names))) for kind in COLD}
    cold_online = {kind: np.zeros(len(cold_index)) for kind in COLD}
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
            slot = cold_slot.get(code)
            if slot is not None:
                for kind, terminal_too in COLD.items():
                    cold_row = pipeline.as_new(row, terminal_too).tolist()
                    cold_rows[kind][slot] = cold_row
                    if online is not None:
                        cold_online[kind][slot] = online.predict_proba_one(dict(zip(names, cold_row, strict=True)))
            pipeline.learn_one(ts_all[code], amounts[code], acct, term)
        else:
            i = -code - 1
            pipeline.learn_label(label_ts_all[i], fraud[i], accounts[customers[i]], terms[terminals[i]])
            if online is not None:
                online.learn_one(dict(zip(names, rows[i], strict=True)), fraud[i])
    X[:] = rows
    copies = ColdCopies(cold_index, cold_rows, cold_online)
    return ReplayResult(X, online_score, names, pipeline, online, copies, accounts, terms)
