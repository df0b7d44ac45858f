"""Group commit for bulk requests: writes that wait while one request is in flight share the next.

Every batch an agent confirms logs its documents; with 16 batches in flight per agent and small batches at paced
rates, each sent its own bulk request of a few documents, and the node spends on a request (HTTP, a translog sync)
about what it spends on many documents. Here one request is in flight at a time, and the writes that arrive
meanwhile go together in the next one, so requests grow with the load instead of multiplying.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

MAX_BULK_BYTES = 8 * 2**20
"""A request takes queued writes up to this size (one write alone may be larger); Elasticsearch's guidance for bulk
requests is a few to about 15 MB."""


class BulkCoalescer:
    """Sends NDJSON bulk bodies through ``send`` one request at a time, joining the writes that queued meanwhile.

    ``send`` takes a body and returns the response's items, one per action, in order; each write gets back the items
    of its own actions. An error of ``send`` (after its own retries) goes to every write of that request.
    """

    def __init__(self, send: Callable[[bytes], Awaitable[list[dict]]], max_bytes: int = MAX_BULK_BYTES) -> None:
        self._send = send
        self._max_bytes = max_bytes
        self._queue: deque[tuple[bytes, int, asyncio.Future[list[dict]]]] = deque()
        self._flusher: asyncio.Task[None] | None = None
        self.waiting = 0
        """Actions queued or in flight (the ``streamsense_es_queue_depth`` gauge)."""

    async def bulk(self, body: bytes, actions: int) -> list[dict]:
        """The response items of the ``actions`` actions in ``body``, sent alone or with other waiting writes."""
        future: asyncio.Future[list[dict]] = asyncio.get_running_loop().create_future()
        self._queue.append((body, actions, future))
        self.waiting += actions
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())
        return await future

    def _take(self) -> list[tuple[bytes, int, asyncio.Future[list[dict]]]]:
        taken = [self._queue.popleft()]
        size = len(taken[0][0])
        while self._queue and size + len(self._queue[0][0]) <= self._max_bytes:
            size += len(self._queue[0][0])
            taken.append(self._queue.popleft())
        return taken

    async def _flush(self) -> None:
        while self._queue:
            taken = self._take()
            live = [(body, n, future) for body, n, future in taken if not future.cancelled()]
            try:
                items = await self._send(b"".join(body for body, _, _ in live)) if live else []
            except asyncio.CancelledError:
                for _, _, future in (*live, *self._queue):
                    future.cancel()
                self.waiting -= sum(n for _, n, _ in self._queue)
                self._queue.clear()
                raise
            except Exception as error:
                for _, _, future in live:
                    if not future.done():
                        future.set_exception(error)
                continue
            finally:
                self.waiting -= sum(n for _, n, _ in taken)
            start = 0
            for _, n, future in live:
                if not future.done():
                    future.set_result(items[start : start + n])
                start += n
