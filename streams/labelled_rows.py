"""Labelled examples a payments worker keeps for retraining: on disk only, read back when it retrains.

Held in memory, the buffer of up to ``fraud_retrain_rows`` (200,000 by default) rows made a worker's memory grow
with every label until it was full (by 400 MiB at 237,000 labels, README). The rows are only appended to the newer
of two files; when it holds ``max_rows`` lines it becomes the older file (a rename, nothing rewritten) and a new
one starts, so the files never hold more than twice the buffer. A retraining reads the newest ``max_rows`` rows
from them on its own thread, through handles that ``take`` opens, so that a rename meanwhile changes nothing it
reads.
"""

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson


def _complete_lines(path: Path, chunk: int = 1 << 20) -> int:
    """Lines in ``path`` (0 if none), after cutting off a last line that a crash left without its newline; read in
    chunks, so that a file of the whole buffer never sits in memory."""
    if not path.exists():
        return 0
    lines, end, at = 0, 0, 0
    with path.open("rb") as file:
        while data := file.read(chunk):
            if (last := data.rfind(b"\n")) >= 0:
                lines += data.count(b"\n")
                end = at + last + 1
            at += len(data)
    if end < at:
        os.truncate(path, end)
    return lines


def _rows(sources: list[tuple[BinaryIO, int, int]]) -> Iterator[dict[str, Any]]:
    """The rows of each ``(file, lines to skip, lines to read)``, in order; a line that does not decode is skipped."""
    try:
        for file, skip, read in sources:
            for line in itertools.islice(file, skip, skip + read):
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
    finally:
        for file, _, _ in sources:
            file.close()


class LabelledRows:
    """The latest ``max_rows`` labelled rows (features kept at scoring time plus the label), oldest first."""

    def __init__(self, path: Path, max_rows: int) -> None:
        self.path = path
        self.older = path.with_suffix(".older" + path.suffix)
        self.max_rows = max_rows
        self.added_since_use = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._older_lines = _complete_lines(self.older)
        self._lines = _complete_lines(path)
        self._file = path.open("ab")

    def __len__(self) -> int:
        return min(self._older_lines + self._lines, self.max_rows)

    def add(self, row: dict[str, Any]) -> None:
        if self._lines >= self.max_rows:
            self._file.close()
            self.path.replace(self.older)
            self._older_lines, self._lines = self._lines, 0
            self._file = self.path.open("ab")
        self._file.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
        self._lines += 1
        self.added_since_use += 1

    def take(self) -> Iterator[dict[str, Any]]:
        """The rows to train on, read lazily (on any thread) as they were now; counts new rows from here."""
        self._file.flush()
        self.added_since_use = 0
        from_newer = min(self._lines, self.max_rows)
        from_older = min(self._older_lines, self.max_rows - from_newer)
        sources = [(self.path.open("rb"), self._lines - from_newer, from_newer)]
        if from_older:
            sources.insert(0, (self.older.open("rb"), self._older_lines - from_older, from_older))
        return _rows(sources)
