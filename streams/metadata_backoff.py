"""Spaced retries of a Kafka client's failed metadata updates.

aiokafka's producer sender and consumer fetcher ask for a metadata update as soon as the previous one failed, with
no pause: with the broker stopped under load, a payments worker tried thousands of updates a second and logged
about a megabyte a second (``python bench/broker_outage.py``, figures in the README), taking CPU from the broker
that was starting again on the same 2 cores. Here consecutive failures wait longer each time, doubling from the client's
``retry_backoff_ms`` up to a cap, as Kafka's own clients do for reconnects (``reconnect.backoff.max.ms``); a success
resets the wait, so a broker that is back is found within the cap.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.client import AIOKafkaClient


class FailureBackoff:
    """How long to wait before the next attempt, given the consecutive failures so far."""

    def __init__(self, first_s: float, max_s: float) -> None:
        self.first_s = first_s
        self.max_s = max_s
        self.failures = 0

    def delay(self) -> float:
        """Nothing after a success; ``first_s`` after one failure, doubling with each further one, at most ``max_s``."""
        if not self.failures:
            return 0.0
        return min(self.first_s * 2 ** min(self.failures - 1, 30), self.max_s)

    def record(self, succeeded: bool) -> None:
        self.failures = 0 if succeeded else self.failures + 1


def space_metadata_updates(client: AIOKafkaClient, max_s: float) -> FailureBackoff:
    """Make ``client`` wait before each metadata update that follows a failed one (see the module docstring); returns
    the backoff it keeps."""
    backoff = FailureBackoff(client._retry_backoff, max_s)
    update: Callable[..., Awaitable[bool]] = client._metadata_update

    async def spaced_update(*args: Any) -> bool:
        await asyncio.sleep(backoff.delay())
        updated = await update(*args)
        backoff.record(updated)
        return updated

    client._metadata_update = spaced_update
    return backoff
