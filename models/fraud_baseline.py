"""A sound online fraud baseline: river logistic regression over scaled, engineered features.

It learns while it runs (``learn_one`` when a delayed label arrives) and explains each score by the
per-feature terms of its linear margin (weight x standardised value).

>>> from datetime import datetime, UTC
>>> model = OnlineFraudBaseline()
>>> profile = AccountProfile()
>>> x = model.features(120.0, datetime(2026, 1, 1, 3, tzinfo=UTC), profile, distance=None)
>>> 0.0 <= model.predict_proba_one(x) <= 1.0
True
"""

import math
from dataclasses import asdict, dataclass
from datetime import datetime

from river import compose, linear_model, optim, preprocessing

NAME = "river-logreg-baseline"
VERSION = "1"


@dataclass
class AccountProfile:
    """Per-account running aggregates; small and JSON-able so it can live in a Faust table."""

    count: int = 0
    mean_amount: float = 0.0
    last_event_ts: float | None = None

    def update(self, amount: float, event_time: datetime) -> None:
        self.count += 1
        self.mean_amount += (amount - self.mean_amount) / self.count
        self.last_event_ts = event_time.timestamp()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "AccountProfile":
        return cls(**data) if data else cls()


class OnlineFraudBaseline:
    """Standardise, then logistic regression with a heavier loss on the rare fraud class."""

    name = NAME
    version = VERSION

    def __init__(self, fraud_weight: float = 20.0, learning_rate: float = 0.05, fraud_prior: float = 0.01) -> None:
        # Until labels arrive the score is the prior fraud rate, not a coin flip.
        self.model = compose.Pipeline(
            preprocessing.StandardScaler(),
            linear_model.LogisticRegression(
                optimizer=optim.SGD(learning_rate),
                loss=optim.losses.Log(weight_pos=fraud_weight),
                intercept_init=math.log(fraud_prior / (1 - fraud_prior)),
            ),
        )

    @staticmethod
    def features(amount: float, event_time: datetime, profile: AccountProfile, distance: float | None) -> dict:
        """Engineered features of one transaction, given the account's history before it."""
        hour = event_time.hour + event_time.minute / 60
        gap = event_time.timestamp() - profile.last_event_ts if profile.last_event_ts is not None else 30 * 86400
        return {
            "log_amount": math.log1p(amount),
            "hour_sin": math.sin(2 * math.pi * hour / 24),
            "hour_cos": math.cos(2 * math.pi * hour / 24),
            "is_night": float(hour < 6),
            "log_account_count": math.log1p(profile.count),
            "amount_vs_account_mean": math.log1p(amount) - math.log1p(profile.mean_amount),
            "log_seconds_since_last": math.log1p(max(gap, 0.0)),
            "distance": distance if distance is not None else 0.0,
        }

    def predict_proba_one(self, x: dict) -> float:
        return self.model.predict_proba_one(x).get(True, 0.0)

    def learn_one(self, x: dict, is_fraud: bool) -> None:
        self.model.learn_one(x, is_fraud)

    def explain_one(self, x: dict, top: int = 3) -> list[tuple[str, float, float]]:
        """The largest terms of the margin: (feature, raw value, weight x standardised value)."""
        scaler, logreg = self.model.steps.values()
        scaled = scaler.transform_one(x)
        terms = [(name, x[name], logreg.weights.get(name, 0.0) * scaled.get(name, 0.0)) for name in x]
        return sorted(terms, key=lambda t: abs(t[2]), reverse=True)[:top]
