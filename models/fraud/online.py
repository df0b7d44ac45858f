"""River online fraud model that keeps learning from delayed labels while scoring continues.

Imbalance is handled as in river's imbalanced-learning guide: a ``RandomUnderSampler`` wraps the scaler + logistic
regression so genuine transactions are mostly skipped (cheap) and the model sees a ``desired_dist`` class mix. The
under-sampler shifts the probabilities upward; the blend and calibration downstream correct that, and ranking metrics
are unaffected. A linear model keeps per-feature reasons exact: weight x standardised value, plus the intercept, is
the logit.
"""

import math
import pickle
from pathlib import Path

from river import compose, imblearn, linear_model, optim, preprocessing


class OnlineFraudModel:
    """``predict_proba_one``/``learn_one`` on feature dicts; ``learn_one`` only when a transaction's label arrives."""

    def __init__(self, fraud_share: float = 0.2, learning_rate: float = 0.02, l2: float = 1e-4, seed: int = 0) -> None:
        self.pipeline = compose.Pipeline(
            preprocessing.StandardScaler(),
            linear_model.LogisticRegression(optimizer=optim.SGD(learning_rate), l2=l2),
        )
        self.model = imblearn.RandomUnderSampler(
            self.pipeline, desired_dist={False: 1 - fraud_share, True: fraud_share}, seed=seed
        )
        self.n_learned = 0

    def predict_proba_one(self, x: dict[str, float]) -> float:
        """Probability of fraud (inflated by under-sampling; use for ranking or feed to the calibrated blend)."""
        return self.model.predict_proba_one(x).get(True, 0.0)

    def logit_one(self, x: dict[str, float]) -> float:
        """Log-odds of fraud, the online model's input to the blend."""
        p = min(max(self.predict_proba_one(x), 1e-9), 1 - 1e-9)
        return math.log(p / (1 - p))

    def learn_one(self, x: dict[str, float], y: bool) -> None:
        """Learn from the features computed when the transaction was scored, once its label arrives."""
        self.model.learn_one(x, bool(y))
        self.n_learned += 1

    def reasons(self, x: dict[str, float], top: int = 5) -> list[tuple[str, float, float]]:
        """``(feature, value, contribution)`` by |contribution|: weight x standardised value; plus bias = logit."""
        scaled = self.pipeline["StandardScaler"].transform_one(x)
        weights = self.pipeline["LogisticRegression"].weights
        contribs = [(k, x[k], weights.get(k, 0.0) * v) for k, v in scaled.items()]
        contribs.sort(key=lambda item: -abs(item[2]))
        return contribs[:top]

    def contributions(self, x: dict[str, float]) -> tuple[dict[str, float], float]:
        """All per-feature contributions and the bias (intercept); they sum to ``logit_one`` up to clipping."""
        scaled = self.pipeline["StandardScaler"].transform_one(x)
        lr = self.pipeline["LogisticRegression"]
        return {k: lr.weights.get(k, 0.0) * v for k, v in scaled.items()}, lr.intercept

    def save(self, path: Path) -> None:
        """Pickle checkpoint (river models are plain Python objects)."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(pickle.dumps(self))
        tmp.replace(path)

    @staticmethod
    def load(path: Path) -> "OnlineFraudModel":
        model = pickle.loads(path.read_bytes())
        if not isinstance(model, OnlineFraudModel):
            raise TypeError(f"{path} does not hold an OnlineFraudModel")
        return model
