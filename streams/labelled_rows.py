"""Labelled examples a payments worker keeps for retraining: bounded in memory, appended to a JSON-lines file so
that a restart does not forget them.

Rows are kept as their JSON lines, not as dicts: the buffer holds up to ``fraud_retrain_rows`` (200,000 by default)
of them, and a row's dict of some 40 float features costs several times the bytes of its numbers as Python objects
(the unit test checks that the lines take under 0.6 of the dicts' memory). A retraining decodes its snapshot on its
own thread (``decode_rows``).
"""

from collections import deque
from pathlib import Path
from typing import Any

import orjson

from streamsense.streams.packed_table import pack


def decode_rows(lines: list[bytes]) -> list[dict[str, Any]]:
    """The rows of a ``take`` snapshot, as dicts."""
    return [orjson.loads(line) for line in lines]


class LabelledRows:
    """The latest ``max_rows`` labelled rows (features kept at scoring time plus the label), oldest first."""

    def __init__(self, path: Path, max_rows: int) -> None:
        self.path = path
        self.rows: deque[bytes] = deque(maxlen=max_rows)
        self.added_since_use = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as lines:
                for line in lines:
                    try:
                        orjson.loads(line)
                    except orjson.JSONDecodeError:
                        continue  # a line cut short by a crash
                    self.rows.append(line.rstrip(b"\n"))
            self._compact()
        self._file = path.open("ab")
        self._written = len(self.rows)

    def add(self, row: dict[str, Any]) -> None:
        line = pack(row)
        self.rows.append(line)
        self.added_since_use += 1
        self._file.write(line + b"\n")
        self._written += 1
        if self._written > 2 * (self.rows.maxlen or 0):
            self._file.close()
            self._compact()
            self._file = self.path.open("ab")
            self._written = len(self.rows)

    def take(self) -> list[bytes]:
        """A snapshot of the rows to train on, encoded (``decode_rows``); counts new rows from here."""
        self._file.flush()
        self.added_since_use = 0
        return list(self.rows)

    def _compact(self) -> None:
        # keep the file at most twice the buffer: rewrite it with what the buffer holds
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(b"".join(line + b"\n" for line in self.rows))
        tmp.replace(self.path)
