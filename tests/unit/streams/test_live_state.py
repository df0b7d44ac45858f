from pathlib import Path

from streamsense.streams.live_state import load_live_state, save_live_state


def test_the_live_state_is_read_back_as_saved_and_an_unreadable_one_is_none(tmp_path: Path) -> None:
    path = tmp_path / "fraud-live.pkl"
    assert load_live_state(path) is None
    save_live_state(path, {"features.json": b"{}", "online.pkl": b"x"})
    save_live_state(path, {"features.json": b"{1}", "online.pkl": b"y"})
    assert load_live_state(path) == {"features.json": b"{1}", "online.pkl": b"y"}
    assert not path.with_suffix(".partial").exists()
    path.write_bytes(b"not a pickle")
    assert load_live_state(path) is None
