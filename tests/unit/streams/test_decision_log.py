"""The bulk request the decision log sends, and how it reads the response."""

import orjson

from streamsense.streams.decision_log import bulk_body


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
