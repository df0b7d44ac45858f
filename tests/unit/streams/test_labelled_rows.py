import tracemalloc
from collections.abc import Callable
from pathlib import Path

import orjson

from streamsense.streams.labelled_rows import LabelledRows, decode_rows


def _row(i: int) -> dict:
    return {"features": {"amount": float(i)}, "is_fraud": i % 2 == 0, "event_time": 1e9 + i, "online_logit": 0.0}


def test_rows_survive_a_restart_and_only_the_latest_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    rows = LabelledRows(path, max_rows=5)
    for i in range(12):
        rows.add(_row(i))
    assert [r["features"]["amount"] for r in decode_rows(rows.take())] == [7.0, 8.0, 9.0, 10.0, 11.0]
    again = LabelledRows(path, max_rows=5)
    assert decode_rows(again.take()) == decode_rows(rows.take())
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
    assert [r["features"]["amount"] for r in decode_rows(LabelledRows(path, max_rows=10).take())] == [1.0]


def test_rows_are_kept_as_their_json_lines_in_less_memory_than_dicts(tmp_path: Path) -> None:
    def row(i: int) -> dict:
        features = {f"feature_{j}": i * 1.1 + j / 3 for j in range(40)}
        return {"features": features, "is_fraud": False, "event_time": 1e9 + i, "online_logit": 0.1}

    def held(make: Callable[[], object]) -> int:
        tracemalloc.start()
        kept = make()
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert kept is not None
        return size

    rows = [row(i) for i in range(2_000)]
    as_dicts = held(lambda: orjson.loads(orjson.dumps(rows)))

    def buffered() -> LabelledRows:
        buffer = LabelledRows(tmp_path / "rows.jsonl", max_rows=2_000)
        for r in rows:
            buffer.add(r)
        return buffer

    assert held(buffered) < 0.6 * as_dicts
