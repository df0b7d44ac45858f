"""A conversation's table entry: messages seen again are decided from the state before them and change nothing."""

from streamsense.models.chat.conversation import RECENT_TURNS, after_turn, conversation_entry, state_before


def _turn(turns: int) -> dict:
    return {"turn_count": turns}


def test_every_message_of_a_conversation_delivered_again_is_decided_from_the_state_before_it() -> None:
    entry = conversation_entry(None)
    for n in range(3):
        applied, before = state_before(entry, f"m{n}")
        assert not applied
        entry = after_turn(entry, f"m{n}", before, _turn((before or {"turn_count": 0})["turn_count"] + 1))

    assert entry["state"] == _turn(3)
    assert [state_before(entry, f"m{n}") for n in range(3)] == [(True, None), (True, _turn(1)), (True, _turn(2))]
    assert state_before(entry, "m3") == (False, _turn(3))


def test_only_the_latest_turns_are_remembered() -> None:
    entry = conversation_entry(None)
    for n in range(RECENT_TURNS + 5):
        entry = after_turn(entry, f"m{n}", entry["state"], _turn(n + 1))

    assert len(entry["recent"]) == RECENT_TURNS
    assert state_before(entry, "m0") == (False, entry["state"])
    assert state_before(entry, f"m{RECENT_TURNS + 4}") == (True, _turn(RECENT_TURNS + 4))


def test_an_entry_of_the_earlier_release_still_recognises_its_last_message() -> None:
    stored = {"state": _turn(2), "before": _turn(1), "last_event_id": "m1"}

    entry = conversation_entry(stored)

    assert state_before(entry, "m1") == (True, _turn(1))
    assert state_before(entry, "m2") == (False, _turn(2))
    assert conversation_entry({"state": None, "before": None, "last_event_id": None}) == {"state": None, "recent": []}
