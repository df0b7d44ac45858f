"""Payment transactions, their delayed fraud labels, and the fraud decision."""

from typing import Literal

from pydantic import Field

from streamsense.schemas.base import Decision, Event, Identifier, InternalMessage


class Transaction(Event):
    """A card payment; keyed by ``account_id`` on ``payments.transactions``.

    ``age_band`` and ``gender`` are audit-only attributes for the fairness report; they are never model features.
    """

    KEY_FIELD = "account_id"
    account_id: Identifier
    terminal_id: Identifier
    amount: float = Field(strict=True, ge=0, le=1_000_000_000)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    customer_x: float | None = Field(
        default=None, strict=True, ge=0, le=100, description="customer location on a 100x100 grid"
    )
    customer_y: float | None = Field(default=None, strict=True, ge=0, le=100)
    terminal_x: float | None = Field(
        default=None, strict=True, ge=0, le=100, description="terminal location on a 100x100 grid"
    )
    terminal_y: float | None = Field(default=None, strict=True, ge=0, le=100)
    age_band: Literal["18-25", "26-40", "41-60", "60+"] | None = None
    gender: Literal["female", "male", "other"] | None = None


class TransactionLabel(Event):
    """A confirmed outcome (chargeback, fraud or genuine) of an earlier transaction; keyed by ``account_id``, as its
    transaction, whose partition holds what the label is learned from."""

    KEY_FIELD = "account_id"
    transaction_id: Identifier
    account_id: Identifier
    is_fraud: bool


class PaymentDecision(Decision):
    """The fraud decision for one transaction; ``label`` is ``fraud`` or ``legit`` at the configured threshold."""

    stream: Literal["payments"] = "payments"
    label: Literal["fraud", "legit"]
    threshold: float


class ScoringRequest(InternalMessage):
    """Internal hand-over on ``payments.scoring``, keyed by terminal: a transaction with its account summary.

    The account stage owns the account's state and summarises it (``FraudFeaturePipeline.key_summary``) before the
    transaction; the terminal stage adds the terminal's summary and scores (and learns ``label``, if any). Unknown
    fields, here or in the transaction, are ignored (``InternalMessage``): refused, a newer account stage's requests
    would all be dead-lettered by an older terminal stage during a rolling upgrade, their transactions never scored.
    """

    transaction: Transaction
    account_summary: list[float] = Field(max_length=256)
    label: TransactionLabel | None = None
    """A label that came before the transaction and waited for it: the terminal stage learns it once it has scored."""


class TerminalLabel(InternalMessage):
    """Internal hand-over on ``payments.labels.by-terminal``, keyed by terminal: a label and its transaction's
    terminal, which only the account stage knows. Unknown fields, here or in the label, are ignored
    (``InternalMessage``): refused, a newer account stage's labels would be dead-lettered by an older terminal stage
    during a rolling upgrade, and never learned."""

    label: TransactionLabel
    terminal_id: Identifier
