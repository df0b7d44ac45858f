from streamsense.schemas.chat import ChatDecision
from streamsense.schemas.payments import PaymentDecision
from streamsense.schemas.sensors import SensorAlert
from streamsense.streams.dead_letters import dead_letter
from streamsense.streams.index_templates import DECISION_MAPPINGS, DLQ_MAPPINGS


def test_every_decision_field_has_an_explicit_mapping():
    mapped = set(DECISION_MAPPINGS["properties"])
    for model in (PaymentDecision, ChatDecision, SensorAlert):
        assert set(model.model_fields) <= mapped, model.__name__


def test_mappings_are_strict_so_a_typo_fails_loudly():
    assert DECISION_MAPPINGS["dynamic"] == "strict"
    assert DLQ_MAPPINGS["dynamic"] == "strict"


def test_dead_letter_document_matches_its_mapping():
    doc = dead_letter("t", 0, 0, 1.5, None, b"x", "k", "r").log_document()
    assert set(doc) == set(DLQ_MAPPINGS["properties"])
