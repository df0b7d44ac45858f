"""A conversation's entry in the dialogue-state table: its state, and the state before each of its turns that may
still come again.

Delivery is at-least-once: after a crash or a rebalance, every message of a conversation that was not committed yet
comes again, not only the last one. The entry used to keep the state before the last message only, so a conversation
with three messages in flight counted the first two again (turn counts 4, 5, 6 instead of 1, 2, 3 in the chat
integration test that sends three turns at once). It now keeps, by event id, the state before each message whose
offset is not committed yet, and before the latest one in any case (so a client that sent its last message twice
gets the same decision twice): a message seen again is decided from the state before it, as the first time, and
changes nothing. A state carries the tracker's beam of hypotheses and is written to the changelog with every
change, so the entry keeps no more turns than that needs (at most ``RECENT_TURNS``).
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
    return {"state": stored["state"], "recent": [[last, -1, stored["before"]]] if last else []}


def state_before(entry: Entry, event_id: str) -> tuple[bool, dict | None]:
    """Whether the message ``event_id`` was applied already, and the state to decide it from."""
    for seen, _, before in entry["recent"]:
        if seen == event_id:
            return True, before
    return False, entry["state"]


def after_turn(
    entry: Entry, event_id: str, offset: int, before: dict | None, state: dict, committed: int | None
) -> Entry:
    """The entry once the message ``event_id`` (at ``offset``) took the conversation from ``before`` to ``state``;
    ``committed`` is its partition's committed offset (the next to consume), before which nothing comes again."""
    kept = [turn for turn in entry["recent"] if committed is None or turn[1] >= committed]
    return {"state": state, "recent": [*kept, [event_id, offset, before]][-RECENT_TURNS:]}
