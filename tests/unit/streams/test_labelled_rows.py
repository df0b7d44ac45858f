import tracemalloc
from pathlib import Path

import orjson

from streamsense.streams.labelled_rows import LabelledRows


def _row(i: int) -> dict:
    return {"features": {"amount": float(i)}, "is_fraud": i % 2 == 0, "event_time": 1e9 + i, "online_logit": 0.0}


def _amounts(rows: LabelledRows) -> list[float]:
    return [row["features"]["amount"] for row in rows.take()]


def test_rows_survive_a_restart_and_only_the_latest_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    rows = LabelledRows(path, max_rows=5)
    for i in range(12):
        rows.add(_row(i))
    assert _amounts(rows) == [7.0, 8.0, 9.0, 10.0, 11.0]
    assert _amounts(LabelledRows(path, max_rows=5)) == [7.0, 8.0, 9.0, 10.0, 11.0]
    on_disk = sum(len(p.read_bytes().splitlines()) for p in tmp_path.iterdir())
    assert on_disk <= 10


def test_new_rows_are_counted_from_the_last_take(tmp_path: Path) -> None:
    rows = LabelledRows(tmp_path / "rows.jsonl", max_rows=100)
    for i in range(3):
        rows.add(_row(i))
    assert rows.added_since_use == 3
    rows.take()
    rows.add(_row(3))
    assert rows.added_since_use == 1


def test_a_taken_snapshot_reads_the_rows_of_its_moment_though_more_arrive_and_the_files_turn_over(
    tmp_path: Path,
) -> None:
    rows = LabelledRows(tmp_path / "rows.jsonl", max_rows=4)
    for i in range(6):
        rows.add(_row(i))
    snapshot = rows.take()
    for i in range(6, 20):
        rows.add(_row(i))
    assert [row["features"]["amount"] for row in snapshot] == [2.0, 3.0, 4.0, 5.0]
    assert _amounts(rows) == [16.0, 17.0, 18.0, 19.0]


def test_a_line_cut_short_by_a_crash_is_dropped_and_the_next_row_starts_a_line_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    rows = LabelledRows(path, max_rows=10)
    rows.add(_row(1))
    rows.take()
    with path.open("ab") as f:
        f.write(b'{"features": {"amou')
    again = LabelledRows(path, max_rows=10)
    again.add(_row(2))
    assert _amounts(again) == [1.0, 2.0]


def test_a_file_of_an_earlier_release_holding_twice_the_rows_gives_the_latest(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b"".join(orjson.dumps(_row(i)) + b"\n" for i in range(8)))
    rows = LabelledRows(path, max_rows=4)
    assert _amounts(rows) == [4.0, 5.0, 6.0, 7.0]
    rows.add(_row(8))
    assert _amounts(rows) == [5.0, 6.0, 7.0, 8.0]


def test_memory_does_not_grow_with_the_rows_kept(tmp_path: Path) -> None:
    rows = LabelledRows(tmp_path / "rows.jsonl", max_rows=20_000)
    features = {f"feature_{j}": j / 3 for j in range(40)}
    tracemalloc.start()
    for i in range(5_000):
        rows.add({"features": features, "is_fraud": False, "event_time": 1e9 + i, "online_logit": 0.1})
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(rows) == 5_000
    assert held < 64 * 1024  # the rows' JSON alone is over 4 MB
