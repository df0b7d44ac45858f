"""The bulk request the decision log sends, how it reads the response, and how it waits out an overloaded node."""

import asyncio

import orjson
import pytest

from streamsense.settings import Settings
from streamsense.streams.decision_log import DecisionLog, bulk_body
from streamsense.streams.metric_names import ES_BULK_ERRORS_TOTAL
from streamsense.streams.metrics import WorkerMetrics


def test_bulk_body_sends_encoded_sources_as_they_are_and_encodes_the_others() -> None:
    encoded = b'{"event_id":"e1","score":0.5}'
    body = bulk_body(
        [
            {"_op_type": "index", "_index": "decisions", "_id": "e1", "_source": encoded},
            {"_op_type": "index", "_index": "dlq", "_id": "d1", "_source": {"reason": "bad"}},
        ]
    )

    lines = body.split(b"\n")
    assert lines[-1] == b""  # the body ends with a newline, as the bulk API requires
    assert [orjson.loads(line) for line in lines[:-1]] == [
        {"index": {"_index": "decisions", "_id": "e1"}},
        {"event_id": "e1", "score": 0.5},
        {"index": {"_index": "dlq", "_id": "d1"}},
        {"reason": "bad"},
    ]
    assert lines[1] == encoded


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (429, b"application/json", b'{"error":{"type":"circuit_breaking_exception"},"status":429}'),
        (503, b"application/json", b'{"error":{"type":"unavailable_shards_exception"},"status":503}'),
        (502, b"text/html", b"<html><h1>502 Bad Gateway</h1></html>"),  # a proxy in front of the node
    ],
)
def test_a_bulk_answered_overloaded_or_by_a_failing_proxy_is_retried_until_it_goes_through(
    status: int, content_type: bytes, body: bytes
) -> None:
    """The worker waits (back-pressure) instead of failing its agents, which restarted and then exited the worker."""
    answered = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        answered.append(status if len(answered) < 2 else 200)
        kind, reply = (content_type, body) if answered[-1] != 200 else (b"application/json", ACCEPTED)
        writer.write(
            b"HTTP/1.1 %d X\r\nContent-Type: %s\r\nX-Elastic-Product: Elasticsearch\r\nContent-Length: %d\r\n\r\n%s"
            % (answered[-1], kind, len(reply), reply)
        )
        await writer.drain()
        writer.close()

    async def main() -> list:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        metrics = WorkerMetrics()
        log = DecisionLog(Settings(es_url=f"http://127.0.0.1:{port}", es_retry_initial_s=0.01), metrics)
        try:
            action = {"_op_type": "index", "_index": "streamsense-decisions-payments", "_id": "e1", "_source": {}}
            return [
                await asyncio.wait_for(log.write([action]), 10),
                metrics.registry.get_sample_value(ES_BULK_ERRORS_TOTAL),
            ]
        finally:
            await log.close()
            server.close()

    assert asyncio.run(main()) == [[], 2.0]
    assert answered == [status, status, 200]


ACCEPTED = b'{"errors":false,"items":[{"index":{"_id":"e1","status":201}}]}'
