"""Labelled examples a payments worker keeps for retraining: bounded in memory, appended to a JSON-lines file so
that a restart does not forget them."""

from collections import deque
from pathlib import Path
from typing import Any

import orjson


class LabelledRows:
    """The latest ``max_rows`` labelled rows (features kept at scoring time plus the label), oldest first."""

    def __init__(self, path: Path, max_rows: int) -> None:
        self.path = path
        self.rows: deque[dict[str, Any]] = deque(maxlen=max_rows)
        self.added_since_use = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as lines:
                for line in lines:
                    try:
                        self.rows.append(orjson.loads(line))
                    except orjson.JSONDecodeError:
                        continue  # a line cut short by a crash
            self._compact()
        self._file = path.open("ab")
        self._written = len(self.rows)

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.added_since_use += 1
        self._file.write(orjson.dumps(row) + b"\n")
        self._written += 1
        if self._written > 2 * (self.rows.maxlen or 0):
            self._file.close()
            self._compact()
            self._file = self.path.open("ab")
            self._written = len(self.rows)

    def take(self) -> list[dict[str, Any]]:
        """A snapshot of the rows to train on; counts new rows from here."""
        self._file.flush()
        self.added_since_use = 0
        return list(self.rows)

    def _compact(self) -> None:
        # keep the file at most twice the buffer: rewrite it with what the buffer holds
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in self.rows))
        tmp.replace(self.path)
