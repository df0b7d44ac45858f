"""Times and durations as the commands take them: ``7d``, ``now-1h``, ISO 8601."""

import re
from datetime import UTC, datetime, timedelta

import typer

DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``1h``, ``7d`` as a timedelta."""
    match = DURATION.match(text.strip())
    if not match:
        raise typer.BadParameter(f"{text!r} is not a duration like 30m, 1h or 7d")
    try:
        return timedelta(seconds=float(match.group(1)) * _UNIT_S[match.group(2)])
    except OverflowError:
        raise typer.BadParameter(f"{text!r} is longer than any calendar holds") from None


def parse_time(text: str | None, now: datetime) -> datetime | None:
    """An ISO 8601 time (UTC when it has no offset), or ``now-<duration>``, or ``now``."""
    if text is None:
        return None
    if text.startswith("now"):
        rest = text[3:].strip()
        if rest and not rest.startswith("-"):
            raise typer.BadParameter(f"{text!r} is not now or now-<duration> (now-7d)")
        try:
            return now - parse_duration(rest[1:]) if rest else now
        except OverflowError:
            raise typer.BadParameter(f"{text!r} is before the year 1") from None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time (2026-04-01T12:00) or now-<duration>") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
