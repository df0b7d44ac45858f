"""Clock times as people write them ("7pm", "5:30 p.m.", "9:15", "18h00", "noon", "at 7.30", "after 6") rewritten as
the database's HH:MM.

The tracker recognises a time by its HH:MM shape, and MultiWOZ writes every time that way, so without this a
user's "a table at 7pm" filled no slot.
"""

import re

_TWELVE_HOUR = re.compile(r"(?<![\d:.])(1[0-2]|0?[1-9])(?:[:.]([0-5]\d))?\s*([ap])\.?m\b\.?", re.I)
_ONE_DIGIT_HOUR = re.compile(r"(?<![\d:.])(\d):([0-5]\d)(?![\d:])")
_H_SEPARATOR = re.compile(r"(?<![\d:.])([01]?\d|2[0-3])h([0-5]\d)\b", re.I)
_CUE_WORDS = r"at|by|after|before|around|until|till|leave|leaves|leaving|arrive|arrives|arriving"
_HOUR_CUE_WORDS = r"after|before|by|until|till|(?:leaves?|leaving|arrives?|arriving|departs?|departing)\s+at"
_NOT_A_TIME = (
    r"(?![\d.:,;]\d|\d|\s*(?:[ap]\.?m\b|h\d|people|persons?|guests?|adults?|nights?|days?|stars?|tickets?|seats?"
    r"|rooms?|minutes?|mins?|hours?|hrs?|pounds?|gbp|euros?|dollars?|each|per|%|st|nd|rd|th)\b)"
)
_CUED_DOT = re.compile(rf"((?<![\w-])(?:{_CUE_WORDS})\s+)([01]?\d|2[0-3])\.([0-5]\d)" + _NOT_A_TIME, re.I)
_CUED_HOUR = re.compile(rf"((?<![\w-])(?:{_HOUR_CUE_WORDS})\s+)([01]?\d|2[0-3])(?:\s*o'?clock)?" + _NOT_A_TIME, re.I)
"""After a word that introduces a time, an hour written "7.30" ("at 7.30"), or alone after one that can only
introduce a time ("after 6", "arrive by 8", "leave at 9 o'clock"), is a time, read as written (as "9:15" is): the
tracker read the "7" or the "6" as a number of people, and a booking for two became one for seven. "at 14" alone
stays a number: it is as often a street number."""
_WORDS = {"noon": "12:00", "midday": "12:00", "midnight": "00:00"}
_NAMED = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.I)
_MAYBE = re.compile(r"\d|noon|midday|midnight", re.I)


def _twelve_hour(match: re.Match[str]) -> str:
    hour = int(match.group(1)) % 12 + (12 if match.group(3).lower() == "p" else 0)
    return f"{hour:02d}:{match.group(2) or '00'}"


def clock_times(text: str) -> str:
    """``text`` with 12-hour, one-digit-hour, ``18h00``, cued and named times as 24-hour HH:MM."""
    if not _MAYBE.search(text):
        return text
    text = _TWELVE_HOUR.sub(_twelve_hour, text)
    text = _H_SEPARATOR.sub(lambda m: f"{int(m.group(1)):02d}:{m.group(2)}", text)
    text = _CUED_DOT.sub(lambda m: f"{m.group(1)}{int(m.group(2)):02d}:{m.group(3)}", text)
    text = _CUED_HOUR.sub(lambda m: f"{m.group(1)}{int(m.group(2)):02d}:00", text)
    text = _ONE_DIGIT_HOUR.sub(lambda m: f"0{m.group(1)}:{m.group(2)}", text)
    return _NAMED.sub(lambda m: _WORDS[m.group(1).lower()], text)
