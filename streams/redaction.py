"""Redaction of personal data from free text before it is kept in the decision log.

Chat messages, the dialogue slots drawn from them, and the previews of rejected events may hold e-mail
addresses, phone numbers, payment card numbers and IBANs. The decision log is read by many (Kibana,
drift jobs), so those are replaced by typed placeholders there. Matching is conservative where it would
otherwise eat identifiers and timestamps: card numbers must pass the Luhn check, IBANs the mod-97 check,
and a phone number needs 9 to 15 digits and must not look like a date, a time or a decimal amount.

>>> redact("mail me at jane.doe@example.org or call +44 20 7946 0958")
'mail me at [EMAIL] or call [PHONE]'
>>> redact("card 4111 1111 1111 1111, order 1234 5678 9012 3456")
'card [CARD], order 1234 5678 9012 3456'
"""

import re
from collections.abc import Iterable

EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
CARD = "[CARD]"
IBAN = "[IBAN]"

# Letters with accents count as part of an address; lookarounds use ASCII word characters, since in Unicode
# patterns ``\w`` also matches Chinese characters, which run straight into numbers with no space between.
_LATIN = r"A-Za-z0-9\u00C0-\u024F"
# A match starts only where a run of address characters starts: tried from inside a long run with no "@" in it,
# the pattern would scan to the run's end from every character of it: quadratic in the run's length
_EMAIL = re.compile(rf"(?<![{_LATIN}._%+\-])[{_LATIN}._%+\-]+@[{_LATIN}\-]+(?:\.[{_LATIN}\-]+)*\.[A-Za-z]{{2,}}")
_IBAN = re.compile(r"(?<![A-Za-z0-9_])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9_])", re.I)
_CARD = re.compile(r"(?<![A-Za-z0-9_.\-+])\d(?:[ \-]?\d){12,18}(?![A-Za-z0-9_\-]|\.\d)")
_PHONE = re.compile(r"(?<![A-Za-z0-9_.\-/+])(?<!\d:)(?:\+|00)?\(?\d[\d ().\-/]{6,}\d(?![A-Za-z0-9_:/]|\.\d|-\d)")
_DATE_OR_TIME = re.compile(r"(?<!\d)(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4})(?!\d)|\d:\d\d")
_DECIMAL = re.compile(r"\d+\.\d+")


def luhn_valid(digits: str) -> bool:
    """The card-number checksum: it makes a random run of digits pass only one time in ten."""
    total = 0
    for n, char in enumerate(reversed(digits)):
        d = int(char)
        if n % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """ISO 13616 mod-97 check on an IBAN with its spaces removed."""
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return CARD if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


def _iban(match: re.Match[str]) -> str:
    return IBAN if iban_valid(match.group()) else match.group()


def _phone(match: re.Match[str]) -> str:
    text = match.group()
    digits = sum(c.isdigit() for c in text)
    if not 9 <= digits <= 15 or _DATE_OR_TIME.search(text) or _DECIMAL.fullmatch(text):
        return text
    return PHONE


def redact(text: str) -> str:
    """``text`` with e-mail addresses, IBANs, card numbers and phone numbers replaced by placeholders."""
    text = _EMAIL.sub(EMAIL, text)
    text = _IBAN.sub(_iban, text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub(_phone, text)


def redact_fields(value: object, keep: Iterable[str] = ()) -> object:
    """A copy of a JSON-like document with every string redacted, except under the keys in ``keep``.

    ``keep`` names fields that hold identifiers, labels or timestamps, which are never personal free text
    and which a phone-number pattern could otherwise mangle.
    """
    kept = frozenset(keep)
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: v if k in kept else redact_fields(v, kept) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_fields(v, kept) for v in value]
    return value
