import json

import orjson
import pytest

from streamsense.streams.dead_letters import dead_letter
from streamsense.streams.decision_log import dead_letter_action, redacted
from streamsense.streams.topics import all_topics


def test_dead_letter_keeps_original_bytes_and_says_where_and_why():
    letter = dead_letter("payments.transactions", 3, 42, 1.5, b"C1", b"\xffbroken", "malformed_json", "bad json")
    assert letter.topic == "payments.transactions.dlq"
    assert letter.value == b"\xffbroken"
    headers = dict(letter.headers())
    assert headers["dlq.source.partition"] == b"3"
    assert headers["dlq.source.offset"] == b"42"
    assert headers["dlq.error.kind"] == b"malformed_json"
    assert headers["dlq.error.reason"] == b"bad json"


def test_dead_letter_keeps_the_messages_own_headers_given_as_pairs_or_as_a_mapping_before_its_own():
    pairs = dead_letter("chat.messages", 0, 1, 1.5, b"c", b"{", "k", "r", [("trace", b"1"), ("dlq.error.kind", b"x")])
    mapping = dead_letter("chat.messages", 0, 1, 1.5, b"c", b"{", "k", "r", {"trace": b"1"})
    for letter in (pairs, mapping):
        headers = letter.headers()
        assert headers[0] == ("trace", b"1")
        assert [value for name, value in headers if name == "dlq.error.kind"] == [b"k"]


def test_dead_letter_log_id_is_deterministic_per_source_message():
    a = dead_letter("chat.messages", 1, 7, 1.5, None, b"x", "empty", "r")
    b = dead_letter("chat.messages", 1, 7, 1.5, None, b"x", "empty", "r")
    assert dead_letter_action(a)["_id"] == dead_letter_action(b)["_id"] == "chat.messages:1:7:1500"


def test_a_message_at_the_same_offset_of_a_recreated_topic_gets_its_own_dead_letter_log_id():
    """Offsets start again at 0 when a topic or the cluster is recreated; the log must keep the earlier letters."""
    before = dead_letter("chat.messages", 1, 7, 1_700_000_000.0, None, b"x", "empty", "r")
    after = dead_letter("chat.messages", 1, 7, 1_800_000_000.0, None, b"x", "empty", "r")
    assert before.doc_id != after.doc_id
    assert dict(after.headers())["dlq.source.timestamp_ms"] == b"1800000000000"


def test_dead_letter_log_document_previews_invalid_utf8_safely():
    doc = dead_letter("chat.messages", 0, 0, 1.5, None, b"\xff" * 1000, "malformed_json", "r").log_document()
    assert doc["size_bytes"] == 1000
    assert len(doc["preview"]) == 200


def test_every_input_topic_has_a_dead_letter_topic():
    topics = set(all_topics())
    for topic in ("payments.transactions", "payments.labels", "chat.messages", "sensor.readings"):
        assert f"{topic}.dlq" in topics


def test_dead_letter_log_names_the_event_id_and_key_apart_from_the_redactable_preview():
    letter = dead_letter(
        "payments.transactions", 0, 5, 1.5, b"acct-1", b'{"event_id": "4180570843", "amount": "x"}', "k", "r"
    )
    logged = redacted(dead_letter_action(letter))["_source"]
    assert (logged["event_id"], logged["key"]) == ("4180570843", "acct-1")
    assert "4180570843" not in logged["preview"], "the preview is still redacted: an all-digit run reads as a phone"


def test_dead_letter_log_has_no_event_id_when_the_message_names_none():
    for value in (b'{"event_id": ', b"[1, 2]", b'{"amount": 3}', b'{"event_id": {"nested": 1}}', None):
        assert dead_letter("chat.messages", 0, 0, 1.5, None, value, "k", "r").log_document()["event_id"] is None
    named = dead_letter("chat.messages", 0, 0, 1.5, None, b'{"event_id": 17}', "k", "r")
    assert named.log_document()["event_id"] == "17"


def _logged_preview(value: bytes) -> str:
    letter = dead_letter("chat.messages", 0, 7, 1.5, b"conv-1", value, "invalid_field", "r")
    return redacted(dead_letter_action(letter))["_source"]["preview"]


def test_a_dead_letter_preview_is_redacted_as_the_text_its_json_escapes_stand_for():
    values = {
        orjson.dumps({"text": "Hi,\n07700 900123"}): '{"text":"Hi,\n[PHONE]"}',
        orjson.dumps({"text": "phone:\t+44 20 7946 0958"}): '{"text":"phone:\t[PHONE]"}',
        json.dumps({"text": "我的电话是13812345678"}).encode(): '{"text": "我的电话是[PHONE]"}',
        json.dumps({"text": "卡号4111111111111111"}).encode(): '{"text": "卡号[CARD]"}',
        json.dumps({"text": 'he said "07700 900123" \\ 😀'}).encode(): '{"text": "he said "[PHONE]" \\ 😀"}',
    }
    for value, preview in values.items():
        assert _logged_preview(value) == preview
    malformed = rb'"\ud83d alone, \x and \u12"'
    assert _logged_preview(malformed) == malformed.decode(), "malformed escapes are kept as they are"


@pytest.mark.parametrize(
    ("head", "pii", "placeholder"),
    [
        (" my card is ", "4111 1111 1111 1111", "[CARD]"),
        (" mail ", "jane.doe@example.org", "[EMAIL]"),
        (" call ", "+44 20 7946 0958", "[PHONE]"),
    ],
)
def test_a_dead_letter_preview_cut_short_keeps_no_part_of_a_number_or_an_address(head, pii, placeholder):
    cut_8_characters_into_it = orjson.dumps({"text": "x" * (200 - len('{"text":"') - len(head) - 8) + head + pii})
    assert _logged_preview(cut_8_characters_into_it).endswith("x" + head)
    assert _logged_preview(orjson.dumps({"text": head + pii})) == f'{{"text":"{head}{placeholder}"}}'
