from datetime import UTC, datetime

from streamsense.models.chat.intent_ledger import IntentLedger, new_name_refusal, removal_refusal
from streamsense.schemas.chat import ChatFeedback, NewIntent

EXAMPLES = ["can my dog stay", "are pets allowed", "is the hotel pet friendly", "can i bring my cat", "dogs ok ?"]
WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def _new(name: str, examples: list[str] = EXAMPLES) -> NewIntent:
    return NewIntent(event_id=f"add-{name}", event_time=WHEN, intent=name, examples=examples)


def _feedback(intent: str) -> ChatFeedback:
    return ChatFeedback(event_id=f"fb-{intent}", event_time=WHEN, conversation_id="c", text="dogs ?", intent=intent)


def test_the_ledger_folds_intents_and_feedback_by_the_rules_the_workers_apply() -> None:
    ledger = IntentLedger(["Hotel-Inform", "general-thank"])
    ledger.learn(_feedback("Hotel-Pets"))  # before its intent: refused, as by every worker
    ledger.add(_new("Hotel-Pets"))
    ledger.add(_new("Hotel-Inform"))  # a trained name
    ledger.learn(_feedback("Hotel-Pets"))
    ledger.learn(_feedback("Hotel-Inform"))
    ledger.add(_new("Taxi-Pets"))
    ledger.remove("Taxi-Pets")
    ledger.remove("general-thank")  # trained: stays
    ledger.add(_new("Hotel-Pets", EXAMPLES * 2))  # new examples replace the old ones
    assert ledger.report() == {
        "trained": {"Hotel-Inform": {"feedback_learned": 1}, "general-thank": {"feedback_learned": 0}},
        "added": {"Hotel-Pets": {"examples": 10, "since": WHEN.isoformat(), "feedback_learned": 1}},
        "removed": ["Taxi-Pets"],
        "refused": {
            "feedback for an unknown intent": 1,
            "intent with a trained name": 1,
            "removal of a trained intent": 1,
        },
    }


def test_trained_intents_and_the_fallback_can_be_neither_added_nor_removed() -> None:
    trained = ["Hotel-Inform"]
    assert new_name_refusal("Hotel-Pets", trained) is None and removal_refusal("Hotel-Pets", trained) is None
    for name in ("Hotel-Inform", "uncertain"):
        assert "trained intent" in (new_name_refusal(name, trained) or "")
        assert "only those can be removed" in (removal_refusal(name, trained) or "")
    assert removal_refusal("", trained) is not None


def test_the_ledger_knows_when_an_added_intent_was_known_and_survives_a_dump_and_load() -> None:
    ledger = IntentLedger(["Hotel-Inform"])
    ledger.add(_new("Hotel-Pets"), appended=100.0)
    ledger.remove("Hotel-Pets", appended=200.0)
    ledger.add(_new("Hotel-Pets"), appended=300.0)
    ledger.learn(_feedback("Hotel-Pets"), appended=301.0)
    restored = IntentLedger.load(["Hotel-Inform"], ledger.dump())
    for each in (ledger, restored):
        assert [each.known_at("Hotel-Pets", at) for at in (99.0, 100.0, 150.0, 200.0, 250.0, 300.0)] == [
            False,
            True,  # an intents event written in the same millisecond comes first
            True,
            False,
            False,
            True,
        ]
        assert each.known_at("Hotel-Inform", 0.0) and not each.known_at("Taxi-Pets", 1e12)
    assert restored.report() == ledger.report()


def test_a_trained_intent_or_the_fallback_written_in_other_case_cannot_be_added() -> None:
    trained = ["Hotel-Inform"]
    for name in ("hotel-inform", "HOTEL-INFORM", "Uncertain"):
        assert "trained intent" in (new_name_refusal(name, trained) or "")
    assert "'Hotel-Inform'" in (new_name_refusal("hotel-inform", trained) or "")


def test_an_added_intent_sent_again_in_other_case_replaces_it_and_a_removal_in_any_case_removes_it() -> None:
    """Kept apart, Hotel-Pets and hotel-pets split every message of the intent into two halves under 0.5."""
    ledger = IntentLedger(["Hotel-Inform"])
    ledger.add(_new("Hotel-Pets"), appended=100.0)
    assert ledger.spelled("hotel-pets") == "Hotel-Pets"
    ledger.add(_new("hotel-pets", EXAMPLES * 2), appended=200.0)
    assert list(ledger.added) == ["hotel-pets"] and ledger.added["hotel-pets"].examples == 10
    assert not ledger.known_at("Hotel-Pets", 250.0) and ledger.known_at("hotel-pets", 250.0)
    assert ledger.remove("HOTEL-PETS", appended=300.0) == "hotel-pets"
    assert ledger.added == {}


def test_a_removal_of_an_intent_never_added_or_of_a_trained_one_is_counted_as_refused() -> None:
    ledger = IntentLedger(["Hotel-Inform"])
    assert ledger.remove("Never-Added") is None
    assert ledger.remove("hotel-inform") is None
    assert ledger.report()["refused"] == {"removal of an intent not added": 1, "removal of a trained intent": 1}
    assert "only those can be removed" in (removal_refusal("HOTEL-INFORM", ["Hotel-Inform"]) or "")
