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

A conversation ends when its user falls silent: a message more than the idle time after the last one (by event
time) starts a new dialogue, and ``idle`` tells the worker which entries no message can need any more, so that the
table and its changelog hold the conversations of the last idle period, not every one ever seen.
"""

from typing import Any

RECENT_TURNS = 16
"""Messages of one conversation in flight at once are far fewer: users wait for an answer before they write again."""

Entry = dict[str, Any]


def conversation_entry(stored: Entry | None, event_time: float, idle_s: float) -> Entry:
    """The entry to decide a message at ``event_time`` (epoch seconds) from: the stored one, or a new dialogue's
    when there is none or the conversation was silent for more than ``idle_s``. A new dialogue keeps the last
    one's turns that may still come again: forgotten, such a turn delivered again was applied to the new one."""
    if stored is None:
        return {"state": None, "recent": [], "time": event_time}
    if event_time - stored["time"] > idle_s:
        return {"state": None, "recent": stored["recent"], "time": event_time}
    return stored


def state_before(entry: Entry, event_id: str) -> tuple[bool, dict | None]:
    """Whether the message ``event_id`` was applied already, and the state to decide it from."""
    for seen, _, before in entry["recent"]:
        if seen == event_id:
            return True, before
    return False, entry["state"]


def after_turn(
    entry: Entry,
    event_id: str,
    offset: int,
    before: dict | None,
    state: dict,
    committed: int | None,
    event_time: float,
    partition: int,
) -> Entry:
    """The entry once the message ``event_id`` (at ``offset`` of ``partition``, dated ``event_time``) took the
    conversation from ``before`` to ``state``; ``committed`` is its partition's committed offset (the next to
    consume), before which nothing comes again."""
    kept = [turn for turn in entry["recent"] if committed is None or turn[1] >= committed]
    return {
        "state": state,
        "recent": [*kept, [event_id, offset, before]][-RECENT_TURNS:],
        "time": max(entry["time"], event_time),
        "p": partition,
    }


def idle(entry: Entry, newest: float | None, committed: int | None, idle_s: float) -> bool:
    """Whether no message can need ``entry`` any more: its partition's newest message (``newest``, event time) is
    more than ``idle_s`` after the conversation's last, and every message it remembers is committed, so none of them
    comes again."""
    if newest is None or committed is None or newest - entry["time"] <= idle_s:
        return False
    return all(offset < committed for _, offset, _ in entry["recent"])
