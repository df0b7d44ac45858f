"""A conversation's table entry: messages seen again are decided from the state before them and change nothing."""

from streamsense.models.chat.conversation import RECENT_TURNS, after_turn, conversation_entry, state_before


def _turn(turns: int) -> dict:
    return {"turn_count": turns}


def _apply(entry: dict, event_id: str, offset: int, committed: int | None = None) -> dict:
    applied, before = state_before(entry, event_id)
    assert not applied
    turns = (before or {"turn_count": 0})["turn_count"] + 1
    return after_turn(entry, event_id, offset, before, _turn(turns), committed)


def test_every_uncommitted_message_of_a_conversation_delivered_again_is_decided_from_the_state_before_it() -> None:
    entry = conversation_entry(None)
    for n in range(3):
        entry = _apply(entry, f"m{n}", offset=n)

    assert entry["state"] == _turn(3)
    assert [state_before(entry, f"m{n}") for n in range(3)] == [(True, None), (True, _turn(1)), (True, _turn(2))]
    assert state_before(entry, "m3") == (False, _turn(3))


def test_committed_turns_are_forgotten_but_the_latest_is_always_kept() -> None:
    entry = conversation_entry(None)
    for n in range(3):
        entry = _apply(entry, f"m{n}", offset=n)

    entry = _apply(entry, "m3", offset=3, committed=2)  # m0 and m1 cannot come again
    assert [turn[0] for turn in entry["recent"]] == ["m2", "m3"]
    entry = _apply(entry, "m4", offset=9, committed=20)  # committed past all of them: the latest stays
    assert [turn[0] for turn in entry["recent"]] == ["m4"]
    assert state_before(entry, "m4") == (True, _turn(4))


def test_no_more_than_recent_turns_are_remembered() -> None:
    entry = conversation_entry(None)
    for n in range(RECENT_TURNS + 5):
        entry = _apply(entry, f"m{n}", offset=n)

    assert len(entry["recent"]) == RECENT_TURNS
    assert state_before(entry, "m0") == (False, entry["state"])


def test_an_entry_of_the_earlier_release_still_recognises_its_last_message() -> None:
    stored = {"state": _turn(2), "before": _turn(1), "last_event_id": "m1"}

    entry = conversation_entry(stored)

    assert state_before(entry, "m1") == (True, _turn(1))
    assert state_before(entry, "m2") == (False, _turn(2))
    assert conversation_entry({"state": None, "before": None, "last_event_id": None}) == {"state": None, "recent": []}
