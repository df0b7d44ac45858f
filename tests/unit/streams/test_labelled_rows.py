from pathlib import Path

from streamsense.streams.labelled_rows import LabelledRows


def _row(i: int) -> dict:
    return {"features": {"amount": float(i)}, "is_fraud": i % 2 == 0, "event_time": 1e9 + i, "online_logit": 0.0}


def test_rows_survive_a_restart_and_only_the_latest_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    rows = LabelledRows(path, max_rows=5)
    for i in range(12):
        rows.add(_row(i))
    assert [r["features"]["amount"] for r in rows.take()] == [7.0, 8.0, 9.0, 10.0, 11.0]
    again = LabelledRows(path, max_rows=5)
    assert again.take() == rows.take()
    assert len(path.read_bytes().splitlines()) <= 10


def test_new_rows_are_counted_from_the_last_take(tmp_path: Path) -> None:
    rows = LabelledRows(tmp_path / "rows.jsonl", max_rows=100)
    for i in range(3):
        rows.add(_row(i))
    assert rows.added_since_use == 3
    rows.take()
    rows.add(_row(3))
    assert rows.added_since_use == 1


def test_a_line_cut_short_by_a_crash_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    rows = LabelledRows(path, max_rows=10)
    rows.add(_row(1))
    rows.take()
    with path.open("ab") as f:
        f.write(b'{"features": {"amou')
    assert [r["features"]["amount"] for r in LabelledRows(path, max_rows=10).take()] == [1.0]
