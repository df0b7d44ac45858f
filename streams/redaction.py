"""Redaction of personal data from free text before it is kept in the decision log.

Chat messages, the dialogue slots drawn from them, and the previews of rejected events may hold e-mail
addresses, phone numbers, payment card numbers and IBANs. The decision log is read by many (Kibana,
drift jobs), so those are replaced by typed placeholders there. Matching is conservative where it would
otherwise eat identifiers and timestamps: card numbers must pass the Luhn check, IBANs the mod-97 check,
and a phone number needs 9 to 15 digits and must not be a date, a time or a decimal amount.

>>> redact("mail me at jane.doe@example.org or call +44 20 7946 0958")
'mail me at [EMAIL] or call [PHONE]'
>>> redact("card 4111 1111 1111 1111, order 1234 5678 9012 3456")
'card [CARD], order 1234 5678 9012 3456'
>>> redact("card 4111 1111 1111 1111 12/27, call 07700 900123 / 07700 900456")
'card [CARD] 12/27, call [PHONE] / [PHONE]'
"""

import re
from collections.abc import Callable, Iterable

EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
CARD = "[CARD]"
IBAN = "[IBAN]"

# An address is made of word characters in any script, the vowel signs and accents that are not word characters
# to Python (Devanagari to Thai, combining accents), and the other characters RFC 5322 allows in a local part.
_LOCAL = r"\w\u0300-\u036f\u0900-\u0e7f.!#$%&'*+/=?^`{|}~\-"
_DOMAIN = r"\w\u0300-\u036f\u0900-\u0e7f\-"
# A match starts only where a run of address characters starts: tried from inside a long run with no "@" in it,
# the pattern would scan to the run's end from every character of it: quadratic in the run's length
_EMAIL = re.compile(rf"(?<![{_LOCAL}])[{_LOCAL}]+@[{_DOMAIN}]+(?:\.[{_DOMAIN}]+)*\.[^\W\d_][{_DOMAIN}]+")
# What an address match may start with that is no part of it: a quote before it, and text in a script written
# without spaces (Chinese, Japanese, Korean, Thai), which runs straight into an address in Latin letters
_NO_SPACES = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_LABEL = re.compile(rf"\W*(?:[{_NO_SPACES}]+(?=[^{_NO_SPACES}@]))?")
_IBAN = re.compile(r"(?<![A-Za-z0-9_])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9_])", re.I)
# A run of digit groups, where card and phone numbers are looked for. It starts where a group starts, not after a
# decimal point (a '.' after a letter, as in "Tel.07700 900123", is no decimal point), and may end in an extension
# ("x89"). Lookarounds use ASCII letters: in Unicode patterns ``\w`` also matches Chinese characters, which run
# straight into numbers with no space between. The lookahead first lets the scan pass over other text quickly.
_RUN = re.compile(
    r"(?=[+(\d])(?<![A-Za-z0-9_\-/+])(?<!(?<![^\W\d_])\.)(?<!\d:)(?:\+|00)?\(?\d[\d ().\-/]{6,}\d(?:x\d{1,5})?"
    r"(?![A-Za-z0-9_:/]|\.\d|-\d)"
)
# A date within a run is kept and parts the numbers around it; the year makes it one ("+44-20-7946-0958" is not)
_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d[-./][01]?\d[-./][0-3]?\d|[0-3]?\d[-./][0-3]?\d[-./](?:19|20)\d\d)(?!\d)")
# The pieces of a run that a number may begin or end between: a space, a '/' or an extension's 'x' parts them,
# while "4111-1111" or "1234.56" is one piece. A phone number takes the '+' or bracket before its digits.
_PIECE = re.compile(r"([+(]*)(\d[^ /x]*)")
# A card number is written whole or in groups, the first of four digits
_CARD = re.compile(r"\d{13,19}|\d{4}(?:[ .\-]+\d+)+")
_DECIMAL = re.compile(r"\d+\.\d+")
# A national number in the groups people write one in without its leading 0 or '+': North American "555 123 4567"
# (an area code never starts with 0 or 1), British "20 7946 0958", Chinese mobile "138 1234 5678". Looser
# shapes read lists as phone numbers ("2018 2019 2020 2021 2022 2023" was two at first)
_GROUPED = re.compile(r"[2-9]\d\d \d{3} \d{4}|\d\d \d{4} \d{4}|1\d\d \d{4} \d{4}")


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


def _email(match: re.Match[str]) -> str:
    """The placeholder, after the quote or the Chinese label that the match took in."""
    label = _LABEL.match(match.group())
    return (label.group() if label else "") + EMAIL


def _iban(match: re.Match[str]) -> str:
    """The longest valid IBAN the match starts with, cut at a space: the pattern, which ignores case, reads a word
    after an IBAN ("... 1332 please") as one more group of it."""
    text = match.group()
    end = len(text)
    while end > 0:
        if iban_valid(text[:end]):
            return IBAN + text[end:]
        end = text.rfind(" ", 0, end)
    return text


def _is_card(text: str, digits: int) -> bool:
    return 13 <= digits <= 19 and _CARD.fullmatch(text) is not None and luhn_valid(re.sub(r"\D", "", text))


def _is_phone(text: str, digits: int) -> bool:
    return 9 <= digits <= 15 and not _DECIMAL.fullmatch(text)


def _beside_another_phone(text: str, digits: int) -> bool:
    """A phone number next to another is written with a '+', a bracket or a 0 first, as one piece, or in a national
    number's groups (``_GROUPED``)."""
    return _is_phone(text, digits) and (
        text[0] in "+(0" or _PIECE.fullmatch(text) is not None or _GROUPED.fullmatch(text) is not None
    )


def _ends(
    text: str, pieces: list[re.Match[str]], i: int, group: int, is_number: Callable[[str, int], bool]
) -> list[int]:
    """The last pieces of the numbers that start at piece ``i``, shortest first; none has over 19 digits."""
    ends: list[int] = []
    digits = 0
    for j in range(i, len(pieces)):
        digits += sum(map(str.isdigit, pieces[j][2]))
        if digits > 19:
            break
        if is_number(text[pieces[i].start(group) : pieces[j].end()], digits):
            ends.append(j)
    return ends


def _phones(text: str, pieces: list[re.Match[str]]) -> list[tuple[int, int, str]]:
    """The phone numbers ``pieces`` make: one, or several side by side ("07700 900123 07700 900456",
    "555-123-4567 555-987-6543", "555 123 4567 555 987 6543") with no piece left over; not a list ("seats 12 13
    ... 21") nor an order number ("1234 5678 9012 3456")."""
    whole = text[pieces[0].start(1) : pieces[-1].end()] if pieces else ""
    if _is_phone(whole, sum(map(str.isdigit, whole))):
        return [(pieces[0].start(1), pieces[-1].end(), PHONE)]
    # split[i]: the last piece of the longest phone number from piece i on after which the rest splits too
    split = {len(pieces): len(pieces)}
    for i in reversed(range(len(pieces))):
        ends = [end for end in _ends(text, pieces, i, 1, _beside_another_phone) if end + 1 in split]
        if ends:
            split[i] = ends[-1]
    if 0 not in split:
        return []
    found: list[tuple[int, int, str]] = []
    i = 0
    while i < len(pieces):
        found.append((pieces[i].start(1), pieces[split[i]].end(), PHONE))
        i = split[i] + 1
    return found


def _cards_and_phones(text: str) -> str:
    """``text`` (a run, or the part of one between dates) with its card numbers replaced, each the longest that
    passes Luhn from a piece on, so that an expiry date or a CVV after it is kept; then the phone numbers between."""
    pieces = list(_PIECE.finditer(text))
    found: list[tuple[int, int, str]] = []
    gap = 0
    i = 0 if sum(map(str.isdigit, text)) >= 13 else len(pieces)  # with fewer digits, no card number is looked for
    while i < len(pieces):
        # a '+' starts an international phone number, never a card number
        ends = [] if "+" in pieces[i][1] else _ends(text, pieces, i, 2, _is_card)
        if not ends:
            i += 1
            continue
        found += [*_phones(text, pieces[gap:i]), (pieces[i].start(2), pieces[ends[-1]].end(), CARD)]
        gap = i = ends[-1] + 1
    for start, end, placeholder in reversed(found + _phones(text, pieces[gap:])):
        text = text[:start] + placeholder + text[end:]
    return text


def _numbers(match: re.Match[str]) -> str:
    """The run with the dates in it kept and the card and phone numbers around them replaced."""
    parts = _DATE.split(match.group())
    parts[::2] = map(_cards_and_phones, parts[::2])
    return "".join(parts)


def redact(text: str) -> str:
    """``text`` with e-mail addresses, IBANs, card numbers and phone numbers replaced by placeholders."""
    if "@" in text:  # most text has none, and looking for an address costs more than for anything else
        text = _EMAIL.sub(_email, text)
    text = _IBAN.sub(_iban, text)
    return _RUN.sub(_numbers, text)


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
