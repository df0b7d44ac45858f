"""A payments worker's live online model and global feature state, kept in its own data dir, so that a restart
continues from what the worker had learned instead of going back to the last published model version.

The online model learns every label as it arrives and the global feature state counts every transaction, in memory
only; a model version keeps them as they were when it was trained. Every ``fraud_snapshot_s`` the worker writes them
here (``FraudScorer.checkpoints``, copied on the event loop), whole or not at all; at start it takes them up
(``FraudScorer.from_artifacts``) unless the current model version reads other features.
"""

import logging
import os
import pickle
from pathlib import Path

log = logging.getLogger(__name__)


def save_live_state(path: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (checkpoint name -> bytes) whole or not at all: a crash mid-write leaves the previous ones."""
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(files))
    os.replace(partial, path)


def load_live_state(path: Path) -> dict[str, bytes] | None:
    """The files saved at ``path``, or None when there are none or they cannot be read (logged)."""
    if not path.exists():
        return None
    try:
        files = pickle.loads(path.read_bytes())
    except Exception:
        log.exception("the live fraud state %s cannot be read; the worker starts from the model's checkpoints", path)
        return None
    return files if isinstance(files, dict) else None
