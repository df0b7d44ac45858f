"""A conversation's table entry: messages seen again are decided from the state before them and change nothing."""

from streamsense.models.chat.conversation import RECENT_TURNS, after_turn, conversation_entry, idle, state_before

T0 = 1_780_000_000.0
IDLE_S = 3_600.0


def _turn(turns: int) -> dict:
    return {"turn_count": turns}


def _apply(entry: dict, event_id: str, offset: int, committed: int | None = None) -> dict:
    applied, before = state_before(entry, event_id)
    assert not applied
    turns = (before or {"turn_count": 0})["turn_count"] + 1
    return after_turn(entry, event_id, offset, before, _turn(turns), committed, T0 + offset, partition=3)


def test_every_uncommitted_message_of_a_conversation_delivered_again_is_decided_from_the_state_before_it() -> None:
    entry = conversation_entry(None, T0, IDLE_S)
    for n in range(3):
        entry = _apply(entry, f"m{n}", offset=n)

    assert entry["state"] == _turn(3)
    assert [state_before(entry, f"m{n}") for n in range(3)] == [(True, None), (True, _turn(1)), (True, _turn(2))]
    assert state_before(entry, "m3") == (False, _turn(3))


def test_committed_turns_are_forgotten_but_the_latest_is_always_kept() -> None:
    entry = conversation_entry(None, T0, IDLE_S)
    for n in range(3):
        entry = _apply(entry, f"m{n}", offset=n)

    entry = _apply(entry, "m3", offset=3, committed=2)  # m0 and m1 cannot come again
    assert [turn[0] for turn in entry["recent"]] == ["m2", "m3"]
    entry = _apply(entry, "m4", offset=9, committed=20)  # committed past all of them: the latest stays
    assert [turn[0] for turn in entry["recent"]] == ["m4"]
    assert state_before(entry, "m4") == (True, _turn(4))


def test_no_more_than_recent_turns_are_remembered() -> None:
    entry = conversation_entry(None, T0, IDLE_S)
    for n in range(RECENT_TURNS + 5):
        entry = _apply(entry, f"m{n}", offset=n)

    assert len(entry["recent"]) == RECENT_TURNS
    assert state_before(entry, "m0") == (False, entry["state"])


def test_a_message_after_the_idle_time_starts_a_new_dialogue_and_one_within_it_goes_on() -> None:
    entry = _apply(_apply(conversation_entry(None, T0, IDLE_S), "m0", offset=0), "m1", offset=1)
    assert entry["time"] == T0 + 1 and entry["p"] == 3

    assert conversation_entry(entry, T0 + 1 + IDLE_S, IDLE_S) is entry
    anew = conversation_entry(entry, T0 + 2 + IDLE_S, IDLE_S)
    assert (anew["state"], anew["time"]) == (None, T0 + 2 + IDLE_S)
    assert conversation_entry(entry, T0 - 50, IDLE_S) is entry, "a late message still belongs to the conversation"


def test_a_turn_of_the_last_dialogue_delivered_again_after_a_new_one_began_changes_nothing() -> None:
    """Forgotten when the new dialogue began, the old turn came again and was applied on top of the new one."""
    entry = _apply(conversation_entry(None, T0, IDLE_S), "m0", offset=0)
    later = T0 + 3 * IDLE_S
    entry = conversation_entry(entry, later, IDLE_S)
    entry = after_turn(entry, "m1", 1, None, _turn(1), None, later, partition=3)

    again = conversation_entry(entry, T0, IDLE_S)
    assert state_before(again, "m0") == (True, None)
    assert state_before(again, "m1") == (True, None) and again["state"] == _turn(1)


def test_an_entry_is_idle_once_its_partition_moved_past_the_idle_time_and_its_messages_are_committed() -> None:
    entry = _apply(_apply(conversation_entry(None, T0, IDLE_S), "m0", offset=0), "m1", offset=1)
    later = T0 + 2 + IDLE_S

    assert idle(entry, later, committed=2, idle_s=IDLE_S)
    assert not idle(entry, T0 + 1 + IDLE_S, committed=2, idle_s=IDLE_S), "not silent for long enough"
    assert not idle(entry, later, committed=1, idle_s=IDLE_S), "m1 may come again"
    assert not idle(entry, None, committed=2, idle_s=IDLE_S), "nothing decided on the partition since a restart"
    assert not idle(entry, later, committed=None, idle_s=IDLE_S)
