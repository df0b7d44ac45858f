"""The fraud scorer a streaming agent calls: features from keyed state, both models, a calibrated score and reasons.

Per transaction::

    score = scorer.score_one(tx, account_state, terminal_state)   # reads state only
    scorer.update_state(tx, account_state, terminal_state)       # then add the transaction to state
    # keep score.features until the label arrives (e.g. a table keyed by transaction id)

In a worker where accounts and terminals live on different partitions, the same happens in two stages::

    summaries = scorer.summarize_accounts(txs, account_states)    # on the account's partition; adds the txs
    scores = scorer.score_summarized(txs, summaries, terminal_states)  # on the terminal's partition; adds the txs

Per arrived label::

    scorer.update_label_state(label, account_state)   # and, wherever the terminal's state lives,
    scorer.update_label_state(label, terminal_state)  # with the terminal state
    scorer.learn_one(features_kept_at_scoring, label.is_fraud)   # once: online model and global prior

Without a trained XGBoost artifact (cold start) the score is the online model's probability and the reasons come from
its weights x standardised values. With one, the score is the calibrated blend and the reasons are XGBoost path
contributions. The registry swaps in newer artifacts while scoring continues.
"""

import json
import logging
import pickle
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from streamsense.models.fraud.artifact import (
    FEATURE_CHECKPOINT,
    ONLINE_CHECKPOINT,
    FraudArtifact,
    newest_with,
)
from streamsense.models.fraud.features import FraudFeaturePipeline, new_key_state
from streamsense.models.fraud.online import OnlineFraudModel
from streamsense.models.fraud.registry import FraudModelRegistry
from streamsense.schemas.payments import Transaction, TransactionLabel
from streamsense.settings import get_settings

log = logging.getLogger(__name__)
COLD_START_VERSION = "online-only"


@dataclass(frozen=True)
class FraudScore:
    """One decision's numbers: calibrated ``score``, the ``threshold`` it was compared with, and why."""

    score: float
    threshold: float
    is_fraud: bool
    reasons: list[tuple[str, float, float]]
    features: dict[str, float] = field(repr=False)
    model_version: str
    online_logit: float


def checkpoint_files(pipeline: FraudFeaturePipeline, online: OnlineFraudModel) -> dict[str, bytes]:
    """The feature pipeline's config and global state and the online model, as files of a version folder, which a
    worker that starts later takes up."""
    return {FEATURE_CHECKPOINT: json.dumps(pipeline.to_dict()).encode(), ONLINE_CHECKPOINT: pickle.dumps(online)}


def _live_state(files: dict[str, bytes]) -> tuple[FraudFeaturePipeline, OnlineFraudModel] | None:
    """The pipeline and online model of ``checkpoint_files``, or None (logged) when they cannot be read: a damaged
    file, or one written by a release whose state this one reads otherwise, must not stop the worker."""
    try:
        pipeline = FraudFeaturePipeline.from_dict(json.loads(files[FEATURE_CHECKPOINT]))
        online = pickle.loads(files[ONLINE_CHECKPOINT])
        if not isinstance(online, OnlineFraudModel):
            raise TypeError(f"{ONLINE_CHECKPOINT} holds a {type(online).__name__}")
    except Exception:
        log.exception("the worker's saved fraud state cannot be read; it starts from the model's checkpoints")
        return None
    return pipeline, online


def new_account_state() -> dict[str, list]:
    """Empty, JSON-able state for an account seen for the first time."""
    return new_key_state()


def new_terminal_state() -> dict[str, list]:
    """Empty, JSON-able state for a terminal seen for the first time."""
    return new_key_state()


def _coords(tx: Transaction) -> tuple[float, float, float, float] | None:
    if tx.customer_x is None or tx.customer_y is None or tx.terminal_x is None or tx.terminal_y is None:
        return None
    return (tx.customer_x, tx.customer_y, tx.terminal_x, tx.terminal_y)


class FraudScorer:
    """Scores transactions with the feature pipeline, the online model and, when present, the current artifact."""

    def __init__(
        self,
        pipeline: FraudFeaturePipeline,
        online: OnlineFraudModel,
        registry: FraudModelRegistry | None = None,
        cold_threshold: float = 0.5,
        top_k: int = 5,
        currency_rates: dict[str, float] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.online = online
        self.registry = registry
        self.cold_threshold = cold_threshold
        self.top_k = top_k
        self.currency_rates = currency_rates if currency_rates is not None else {"EUR": 1.0}

    @classmethod
    def from_artifacts(
        cls,
        root: Path | None = None,
        check_every_s: float = 30.0,
        cold_threshold: float | None = None,
        live: dict[str, bytes] | None = None,
    ) -> "FraudScorer":
        """Start from ``live`` (``checkpoints()`` a worker saved before it stopped) unless the current version reads
        other features, else from the checkpoints (warm online model, feature state) of the newest version that has
        them, if any: ``train fraud`` writes them, and so does a worker's retraining since stop 34 (until then a worker
        started after a retraining began with a cold online model and no global feature state). The feature state is
        resumed: the days of its window it holds no count for count at the daily rate it held.

        ``root`` defaults to ``get_settings().artifact_dir / "fraud"``, ``cold_threshold`` to the settings'
        ``fraud_threshold`` (used only until an artifact with its own validated threshold exists); the currencies
        taken are the settings' ``fraud_currency_rates``.
        """
        settings = get_settings()
        root = root if root is not None else settings.artifact_dir / "fraud"
        cold_threshold = settings.fraud_threshold if cold_threshold is None else cold_threshold
        pipeline, online = FraudFeaturePipeline(), OnlineFraudModel()
        if (folder := newest_with(root, FEATURE_CHECKPOINT)) is not None:
            pipeline = FraudFeaturePipeline.from_dict(json.loads((folder / FEATURE_CHECKPOINT).read_text()))
        if (folder := newest_with(root, ONLINE_CHECKPOINT)) is not None:
            online = OnlineFraudModel.load(folder / ONLINE_CHECKPOINT)
        registry = FraudModelRegistry(root, check_every_s)
        if live is not None and (taken := _live_state(live)) is not None:
            current = registry.current()
            if current is None or current.names == taken[0].names:
                pipeline, online = taken
        pipeline.resume()  # what the checkpoint did not count went unseen (``FraudFeaturePipeline.resume``)
        return cls(pipeline, online, registry, cold_threshold, currency_rates=settings.fraud_currency_rates)

    def unusable(self, tx: Transaction) -> str | None:
        """Why the model cannot judge ``tx`` (a currency it has no rate for), or None."""
        if tx.currency in self.currency_rates:
            return None
        taken = ", ".join(sorted(self.currency_rates))
        return (
            f"currency {tx.currency} has no rate to euros, in which the fraud model learned amounts (it takes {taken};"
            " add rates with STREAMSENSE_FRAUD_CURRENCY_RATES)"
        )

    def amount(self, tx: Transaction) -> float:
        """The transaction's amount in euros, as the model learned amounts."""
        return tx.amount * self.currency_rates[tx.currency]

    def _artifact(self) -> FraudArtifact | None:
        """The current artifact, unless it was trained on other features (then score online-only until one fits)."""
        artifact = self.registry.current() if self.registry else None
        return artifact if artifact is not None and artifact.names == self.pipeline.names else None

    def _features(self, tx: Transaction, account_state: dict, terminal_state: dict) -> list[float]:
        return self.pipeline.transform_one(
            tx.event_time.timestamp(), self.amount(tx), account_state, terminal_state, _coords(tx)
        )

    def _finish(
        self, row: list[float], artifact: FraudArtifact | None, margin: float, contribs: np.ndarray | None
    ) -> FraudScore:
        feats = dict(zip(self.pipeline.names, row, strict=True))
        online_logit = self.online.logit_one(feats)
        if artifact is None or contribs is None:
            p = 1.0 / (1.0 + np.exp(-online_logit))
            return FraudScore(
                float(p),
                self.cold_threshold,
                bool(p >= self.cold_threshold),
                self.online.reasons(feats, self.top_k),
                feats,
                COLD_START_VERSION,
                online_logit,
            )
        score = artifact.blend.score(online_logit, margin)
        top = np.argsort(-np.abs(contribs))[: self.top_k]
        names = self.pipeline.names
        reasons = [(names[i], row[i], float(contribs[i])) for i in top.tolist()]
        return FraudScore(
            score, artifact.threshold, score >= artifact.threshold, reasons, feats, artifact.version_name, online_logit
        )

    def score_one(self, tx: Transaction, account_state: dict, terminal_state: dict) -> FraudScore:
        """Score one transaction from the state before it; does not change any state."""
        row = self._features(tx, account_state, terminal_state)
        artifact = self._artifact()
        if artifact is None:
            return self._finish(row, None, 0.0, None)
        margins, contribs = artifact.margin_and_contribs(np.asarray([row]))
        return self._finish(row, artifact, float(margins[0]), contribs[0])

    def score_many(
        self, txs: list[Transaction], account_states: list[dict], terminal_states: list[dict]
    ) -> list[FraudScore]:
        """Score a batch in order and update state after each transaction (so same-key events see each other);
        equals ``score_one`` + ``update_state`` per event, with the trees walked once for the whole batch."""
        return self.score_summarized(txs, self.summarize_accounts(txs, account_states), terminal_states)

    def summarize_accounts(self, txs: list[Transaction], account_states: list[dict]) -> list[list[float]]:
        """Each transaction's account summary from the state before it, adding it to that state (first stage)."""
        out = []
        for tx, state in zip(txs, account_states, strict=True):
            ts = tx.event_time.timestamp()
            out.append(self.pipeline.key_summary(ts, state))
            self.pipeline.learn_key(ts, self.amount(tx), state)
        return out

    def score_summarized(
        self, txs: list[Transaction], account_summaries: list[list[float]], terminal_states: list[dict]
    ) -> list[FraudScore]:
        """Score a batch from account summaries and terminal states, adding each transaction to its terminal and
        the global state after its features are taken (second stage)."""
        rows = []
        for tx, account, state in zip(txs, account_summaries, terminal_states, strict=True):
            ts = tx.event_time.timestamp()
            terminal = self.pipeline.key_summary(ts, state)
            amount = self.amount(tx)
            rows.append(self.pipeline.transform_summaries(ts, amount, account, terminal, _coords(tx)))
            self.pipeline.learn_key(ts, amount, state)
            self.pipeline.learn_global(ts, amount)
        artifact = self._artifact()
        if not rows:
            return []
        if artifact is None:
            return [self._finish(row, None, 0.0, None) for row in rows]
        margins, contribs = artifact.margin_and_contribs(np.asarray(rows))
        return [self._finish(row, artifact, float(m), c) for row, m, c in zip(rows, margins, contribs, strict=True)]

    def checkpoints(self) -> dict[str, bytes]:
        """``checkpoint_files`` of the live state; call it where the state changes (the event loop), not in a thread
        that runs beside it."""
        return checkpoint_files(self.pipeline, self.online)

    def retrain(
        self, rows: Iterable[Mapping[str, Any]], min_frauds: int, checkpoints: dict[str, bytes]
    ) -> FraudArtifact | None:
        """Fit the next XGBoost version on labelled rows kept at scoring time and make it current (hot swap); the
        version also keeps ``checkpoints`` (``checkpoints()`` taken before) for the workers that start after it.

        The new version is trained with the current version's choices (threshold rule, GAN mode, cold share).
        Returns ``None`` when there is no registry or fewer than ``min_frauds`` frauds to train or to validate it."""
        if self.registry is None:
            return None
        from streamsense.models.fraud.training import retrain  # training pulls in torch (the GAN); scoring does not

        current = self.registry.current()
        # the copy in ``checkpoints``, not the live pipeline, which the event loop changes while this thread runs
        pipeline = FraudFeaturePipeline.from_dict(json.loads(checkpoints[FEATURE_CHECKPOINT]))
        artifact = retrain(
            rows,
            self.registry.root,
            pipeline.names,
            pipeline.config.to_dict(),
            choices=current.choices if current is not None else None,
            min_frauds=min_frauds,
            as_new=pipeline.as_new,
            extra_files=checkpoints,
        )
        if artifact is not None:
            self.registry.refresh()
        return artifact

    def update_state(self, tx: Transaction, account_state: dict, terminal_state: dict) -> None:
        """Add a scored transaction to its account, terminal and the global feature state (in place)."""
        self.pipeline.learn_one(tx.event_time.timestamp(), self.amount(tx), account_state, terminal_state)

    def update_label_state(self, label: TransactionLabel, state: dict) -> None:
        """Fold an arrived label into one key's state (call with the account state and with the terminal state)."""
        self.pipeline.learn_label_key(label.event_time.timestamp(), label.is_fraud, state)

    def learn_one(self, features: dict[str, float], is_fraud: bool) -> None:
        """Once per arrived label: the online model learns from the features computed at scoring time."""
        self.online.learn_one(features, is_fraud)
        self.pipeline.learn_label_global(is_fraud)
