"""Hot-swapping access to the newest fraud artifact while scoring continues."""

import threading
import time
from collections.abc import Callable
from pathlib import Path

from streamsense.models.fraud.artifact import FraudArtifact, list_versions, load, version_name


class FraudModelRegistry:
    """``current()`` returns the loaded artifact; at most every ``check_every_s`` it looks for a newer version.

    A newer version is fully loaded before a single reference assignment swaps it in, so concurrent scorers see either
    the old or the new model, never a mix. A version that fails to load is skipped and the current model kept.
    """

    def __init__(self, root: Path, check_every_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.root = root
        self.check_every_s = check_every_s
        self._clock = clock
        self._current: FraudArtifact | None = None
        self._last_check: float | None = None
        self._failed: set[int] = set()
        self._lock = threading.Lock()

    def current(self) -> FraudArtifact | None:
        now = self._clock()
        if self._last_check is None or now - self._last_check >= self.check_every_s:
            self.refresh(now)
        return self._current

    def refresh(self, now: float | None = None) -> FraudArtifact | None:
        """Check the folder now; swap in the newest loadable version if it is newer than the current one."""
        with self._lock:
            self._last_check = self._clock() if now is None else now
            have = self._current.version if self._current else 0
            for version in reversed(list_versions(self.root)):
                if version <= have:
                    break
                if version in self._failed:
                    continue
                try:
                    self._current = load(self.root / version_name(version))
                    break
                except (OSError, ValueError, KeyError):
                    self._failed.add(version)
            return self._current
