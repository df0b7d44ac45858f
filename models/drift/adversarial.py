"""Adversarial validation: train a classifier to tell reference rows from current rows.

If it cannot (cross-validated ROC AUC near 0.5) the two sets look alike jointly, not just feature by
feature; if it can, the permutation importances name the features that give the current rows away.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from streamsense.models.drift.psi import DriftLevel

ADVERSARIAL_AUC_WARN = 0.6
ADVERSARIAL_AUC_ALERT = 0.7


def classify_adversarial_auc(auc: float) -> DriftLevel:
    """Map an adversarial AUC to a level; 0.5 means indistinguishable."""
    if auc >= ADVERSARIAL_AUC_ALERT:
        return "alert"
    if auc >= ADVERSARIAL_AUC_WARN:
        return "warn"
    return "ok"


@dataclass(frozen=True)
class AdversarialResult:
    """Out-of-fold ROC AUC (the drift score), its spread over folds, and mean permutation importance per feature."""

    auc: float
    fold_aucs: list[float]
    importances: dict[str, float] = field(default_factory=dict)

    @property
    def level(self) -> DriftLevel:
        return classify_adversarial_auc(self.auc)

    def top_features(self, k: int = 3, min_importance: float = 0.01) -> list[str]:
        """Features whose shuffling cost the classifier at least ``min_importance`` AUC, most important first.

        Empty when the AUC is below the warn level: with nothing to detect, importances are noise.
        """
        if self.level == "ok":
            return []
        ranked = sorted(self.importances.items(), key=lambda kv: kv[1], reverse=True)
        return [name for name, value in ranked[:k] if value >= min_importance]


@dataclass
class AdversarialValidator:
    """Seeded, cross-validated reference-vs-current classifier.

    ``classifier`` "hgb" (gradient-boosted trees) also catches changes in shape and interactions;
    "logistic" (standardised logistic regression) has more power on plain location shifts at small sizes.
    ``n_threads`` caps OpenMP threads while it runs: on a shared or busy machine the default of one thread
    per core makes the tree fits spin against other processes and run tens of times slower.
    """

    n_splits: int = 5
    max_iter: int = 100
    n_repeats: int = 3
    seed: int = 0
    n_threads: int | None = 1
    classifier: Literal["hgb", "logistic"] = "hgb"

    def _model(self, fold: int) -> ClassifierMixin:
        if self.classifier == "logistic":
            return make_pipeline(StandardScaler(), LogisticRegression(max_iter=self.max_iter * 10))
        return HistGradientBoostingClassifier(max_iter=self.max_iter, random_state=self.seed + fold)

    def evaluate(
        self, reference: npt.ArrayLike, current: npt.ArrayLike, feature_names: Sequence[str] | None = None
    ) -> AdversarialResult:
        """Fit one classifier per fold; AUC on the pooled out-of-fold scores, importances on held-out folds."""
        with threadpool_limits(limits=self.n_threads):
            return self._evaluate(reference, current, feature_names)

    def _evaluate(
        self, reference: npt.ArrayLike, current: npt.ArrayLike, feature_names: Sequence[str] | None
    ) -> AdversarialResult:
        ref = np.asarray(reference, dtype=np.float64)
        cur = np.asarray(current, dtype=np.float64)
        if ref.ndim != 2 or cur.ndim != 2 or ref.shape[1] != cur.shape[1]:
            raise ValueError("reference and current must be 2-D with the same number of columns")
        names = list(feature_names) if feature_names is not None else [f"f{i}" for i in range(ref.shape[1])]
        if len(names) != ref.shape[1]:
            raise ValueError("feature_names must name every column")
        x = np.vstack([ref, cur])
        y = np.concatenate([np.zeros(len(ref), dtype=np.int64), np.ones(len(cur), dtype=np.int64)])
        folds = StratifiedKFold(n_splits=self.n_splits, shuffle=True, random_state=self.seed)
        oof = np.zeros(len(y), dtype=np.float64)
        fold_aucs: list[float] = []
        importance_sum = np.zeros(x.shape[1], dtype=np.float64)
        for fold, (train, test) in enumerate(folds.split(x, y)):
            model = self._model(fold)
            model.fit(x[train], y[train])
            oof[test] = model.predict_proba(x[test])[:, 1]
            fold_aucs.append(float(roc_auc_score(y[test], oof[test])))
            perm = permutation_importance(
                model,
                x[test],
                y[test],
                scoring="roc_auc",
                n_repeats=self.n_repeats,
                random_state=self.seed + fold,
            )
            importance_sum += perm.importances_mean
        importances = importance_sum / self.n_splits
        return AdversarialResult(
            auc=float(roc_auc_score(y, oof)),
            fold_aucs=fold_aucs,
            importances={name: float(v) for name, v in zip(names, importances, strict=True)},
        )
