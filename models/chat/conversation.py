"""A conversation's entry in the dialogue-state table: its state, and the state before each of its latest turns.

Delivery is at-least-once: after a crash or a rebalance, every message of a conversation that was not committed yet
comes again, not only the last one. The entry used to keep the state before the last message only, so a conversation
with three messages in flight counted the first two again (turn counts 4, 5, 6 instead of 1, 2, 3 in the chat
integration test that sends three turns at once). It now keeps the state before each of its ``RECENT_TURNS`` latest
messages, by event id: a message seen again is decided from the state before it, as the first time, and changes
nothing; a client that sent one message twice gets the same decision twice.
"""

from typing import Any

RECENT_TURNS = 16
"""Messages of one conversation in flight at once are far fewer: users wait for an answer before they write again."""

Entry = dict[str, Any]


def conversation_entry(stored: Entry | None) -> Entry:
    """The entry as the table holds it (``None`` before the first message); an entry of an earlier release, which
    kept the state before its last message only (``before``, ``last_event_id``), is read the same way."""
    if stored is None:
        return {"state": None, "recent": []}
    if "recent" in stored:
        return stored
    last = stored.get("last_event_id")
    return {"state": stored["state"], "recent": [[last, stored["before"]]] if last else []}


def state_before(entry: Entry, event_id: str) -> tuple[bool, dict | None]:
    """Whether the message ``event_id`` was applied already, and the state to decide it from."""
    for seen, before in entry["recent"]:
        if seen == event_id:
            return True, before
    return False, entry["state"]


def after_turn(entry: Entry, event_id: str, before: dict | None, state: dict) -> Entry:
    """The entry once the message ``event_id`` took the conversation from ``before`` to ``state``."""
    return {"state": state, "recent": [*entry["recent"], [event_id, before]][-RECENT_TURNS:]}
