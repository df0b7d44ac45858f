"""Personal data is removed from free text; identifiers, timestamps and ordinary numbers are left alone."""

import doctest

import orjson
import pytest

from streamsense.streams import redaction
from streamsense.streams.decision_log import STRUCTURAL_FIELDS, redacted
from streamsense.streams.redaction import iban_valid, luhn_valid, redact, redact_fields


def test_docstring_examples():
    assert doctest.testmod(redaction).failed == 0


@pytest.mark.parametrize(
    "text",
    [
        "write to jane.doe@example.org please",
        "mail J.Smith+hotels@mail.example.co.uk today",
    ],
)
def test_email_addresses_are_redacted(text):
    assert "@" not in redact(text)
    assert "[EMAIL]" in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "call me on +44 20 7946 0958",
        "my number is (555) 123-4567 ext",
        "ring 07700 900123 tonight",
        "tel: 0049-30-1234567",
        "+1.415.555.2671",
    ],
)
def test_phone_numbers_are_redacted(text):
    assert "[PHONE]" in redact(text)
    assert not any(c.isdigit() for c in redact(text))


@pytest.mark.parametrize(
    "number", ["4111 1111 1111 1111", "4111-1111-1111-1111", "5500005555555559", "378282246310005"]
)
def test_card_numbers_passing_luhn_are_redacted(number):
    assert redact(f"pay with {number} now") == "pay with [CARD] now"


def test_luhn_check():
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


@pytest.mark.parametrize(
    "iban", ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR1420041010050500013M02606"]
)
def test_ibans_passing_mod97_are_redacted(iban):
    assert iban_valid(iban)
    assert redact(f"send it to {iban}.") == "send it to [IBAN]."


def test_an_iban_shaped_string_failing_mod97_is_kept():
    assert not iban_valid("DE00 3704 0044 0532 0130 00")
    assert "DE00" in redact("ref DE00 3704 0044 0532 0130 00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的电话是13812345678", "我的电话是[PHONE]"),
        ("电话：13812345678", "电话：[PHONE]"),
        ("卡号4111111111111111。", "卡号[CARD]。"),
        ("我的邮箱是zhang@example.cn", "我的邮箱是[EMAIL]"),
        ("phone:07700900123", "phone:[PHONE]"),
        ("4111-1111-1111-1111.", "[CARD]."),
        ("+4915112345678 (passes Luhn)", "[PHONE] (passes Luhn)"),
        ("my iban is de89 3704 0044 0532 0130 00", "my iban is [IBAN]"),
        ("write to josé.garcía@correo.es", "write to [EMAIL]"),
    ],
)
def test_personal_data_is_found_next_to_chinese_text_labels_and_punctuation(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "book a table for 4 people at 19:30 on 2026-04-01",
        "2026-04-01T14:30:00Z",
        "01/04/2026 14:30",
        "order 1234 5678 9012 3456 (not a card: fails Luhn)",
        "reference abc-tx-1234567890",
        "amount 1234567.89 eur",
        "room 12, 3 nights, 2 adults",
        "the train leaves at 10:15 and arrives at 12:45",
        "at 10:30:00, id 12:34567890",
        "see http://example.com:8080/path/123456789",
        "amount 1234567890123.45 eur",
        "the ab12 cdef ghij klmn code",
        "train TR1234 on 2026-04-12, or on 12/04/2026",
        "£12.50 for pi to 3.14159",
        "postcode cb21ab or CB2 1AB, reference 7GAYSBJH or 00000045",
    ],
)
def test_ordinary_text_and_numbers_are_kept(text):
    assert redact(text) == text


def test_fields_are_walked_but_kept_keys_are_untouched():
    doc = {
        "event_id": "conv-07700900123",
        "state": {"slots": {"taxi-phone": "07700 900123", "name": "ann@example.com"}},
        "knowledge": [{"text": "call 01223 356354"}],
        "score": 0.9,
    }
    result = redact_fields(doc, keep={"event_id", "knowledge"})
    assert result == {
        "event_id": "conv-07700900123",
        "state": {"slots": {"taxi-phone": "[PHONE]", "name": "[EMAIL]"}},
        "knowledge": [{"text": "call 01223 356354"}],
        "score": 0.9,
    }
    assert doc["state"]["slots"]["name"] == "ann@example.com", "the input is not changed"


def test_the_decision_log_redacts_chat_and_dead_letters_only():
    chat = {
        "_index": "streamsense-decisions-chat",
        "_id": "e1",
        "_source": {"event_id": "e1", "key": "c1", "text": "I'm bob@example.com", "label": "book_taxi"},
    }
    assert redacted(chat)["_source"] == {**chat["_source"], "text": "I'm [EMAIL]"}
    dlq = {"_index": "streamsense-dlq", "_id": "x", "_source": {"preview": '{"text": "card 4111111111111111"}'}}
    assert redacted(dlq)["_source"]["preview"] == '{"text": "card [CARD]"}'
    payments = {"_index": "streamsense-decisions-payments", "_id": "p", "_source": {"note": "bob@example.com"}}
    assert redacted(payments) is payments
    assert {"event_id", "event_time", "key", "label"} <= STRUCTURAL_FIELDS


def test_a_chat_decision_already_encoded_for_kafka_is_redacted_too():
    source = {"event_id": "e2", "key": "c1", "text": "call me on +44 20 7946 0958", "label": "book_taxi"}
    chat = {"_index": "streamsense-decisions-chat", "_id": "e2", "_source": orjson.dumps(source)}
    assert redacted(chat)["_source"] == {**source, "text": "call me on [PHONE]"}


def test_an_address_with_a_long_local_part_is_redacted_whole() -> None:
    assert redact(f"write to {'a' * 100}@example.com now") == "write to [EMAIL] now"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111 1111 1111 1111 12/27", "card [CARD] 12/27"),
        ("4111111111111111 123", "[CARD] 123"),
        ("card 5500 0055 5555 5559 03/28 cvv 737", "card [CARD] 03/28 cvv 737"),
        ("07700 900123 / 07700 900456", "[PHONE] / [PHONE]"),
        ("07700 900123 07700 900456", "[PHONE] [PHONE]"),
        ("call 555 123 4567 555 987 6543", "call [PHONE] [PHONE]"),
        ("20 7946 0958 20 7946 0959", "[PHONE] [PHONE]"),
        ("seats 12 13 14 15 16 17 18 19 20 21", "seats 12 13 14 15 16 17 18 19 20 21"),
        ("rooms 123 124 125 126 127 128", "rooms 123 124 125 126 127 128"),
        ("138 1234 5678 139 8765 4321", "[PHONE] [PHONE]"),
        ("we visited in 2018 2019 2020 2021 2022 2023", "we visited in 2018 2019 2020 2021 2022 2023"),
        ("trains at 0930 1015 1100 1145 1230 1315", "trains at 0930 1015 1100 1145 1230 1315"),
        ("booking refs 8765 4321 8765 4322 8765 4323", "booking refs 8765 4321 8765 4322 8765 4323"),
        ("miles 100 250 1500 2000 3500 5000", "miles 100 250 1500 2000 3500 5000"),
    ],
)
def test_a_card_followed_by_its_expiry_or_cvv_and_phones_side_by_side_are_each_redacted_alone(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+44-20-7946-0958", "[PHONE]"),
        ("+49-30-1234-5678", "[PHONE]"),
        ("+81-3-1234-5678", "[PHONE]"),
        ("+33-6-1234-5678", "[PHONE]"),
        ("on 12/04/2026 07700 900123 is best", "on 12/04/2026 [PHONE] is best"),
        ("call 07700 900123 2026-04-12 works", "call [PHONE] 2026-04-12 works"),
        ("+1 555 123 4567x89", "[PHONE]"),
    ],
)
def test_phone_numbers_written_with_dashes_or_next_to_a_date_are_redacted_and_the_date_kept(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tel.07700 900123", "Tel.[PHONE]"),
        ("Mob.07700900123", "Mob.[PHONE]"),
        ("ph.555-123-4567", "ph.[PHONE]"),
        ("card no.4111111111111111", "card no.[CARD]"),
        ("card no.4111 1111 1111 1111", "card no.[CARD]"),
        ("pi is 3.14159265358979", "pi is 3.14159265358979"),
    ],
)
def test_a_number_right_after_an_abbreviation_with_a_full_stop_is_redacted_whole_but_not_after_a_decimal_point(
    text, expected
):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "number", ["4111.1111.1111.1111", "4111  1111  1111  1111", "4111 - 1111 - 1111 - 1111", "4111 1111 1111 1111-"]
)
def test_cards_written_with_dots_double_spaces_spaced_dashes_or_a_dash_after_are_redacted(number):
    assert redact(f"card {number} ok") == f"card [CARD]{'-' if number.endswith('-') else ''} ok"


@pytest.mark.parametrize(
    "address",
    [
        "john.o'brien@example.ie",
        "jane!x@example.com",
        "bob&alice@example.com",
        "a=b/c#d~e@example.com",
        "иван@example.com",
        "δημήτρης@example.gr",
        "张伟@example.cn",
        "ivan@пример.рф",
        "jane@example.xn--p1ai",
    ],
)
def test_an_address_with_any_local_part_character_or_in_any_script_is_redacted_whole(address):
    assert redact(f"mail {address} now") == "mail [EMAIL] now"
    assert redact(f"the key '{address}' is wrong") == "the key '[EMAIL]' is wrong", "the quotes are kept"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ES91 2100 0418 4502 0005 1332 please", "[IBAN] please"),
        ("ES9121000418450200051332 please", "[IBAN] please"),
        ("iban BE68539007547034 thanks", "iban [IBAN] thanks"),
    ],
)
def test_an_iban_followed_by_a_word_is_redacted_and_the_word_kept(text, expected):
    assert redact(text) == expected
