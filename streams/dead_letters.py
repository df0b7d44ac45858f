"""Dead-letter routing: an undecodable event keeps its original bytes and headers; the why and where travel in
headers of their own."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from streamsense.streams.topics import dlq_topic

PREVIEW_CHARS = 200
OWN_HEADERS = "dlq."
"""The prefix of the headers a dead letter adds: a message's own headers of that name (a dead letter sent back
to its topic and refused again) give way to the new ones."""
Headers = tuple[tuple[str, bytes | None], ...]
# A well-formed JSON string escape: a surrogate pair, another \u escape (not half of a pair), a one-letter escape
_ESCAPE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u(?![dD][89a-fA-F])[0-9a-fA-F]{4}|\\[\"\\/bfnrt]"
)
# What a preview cut short may end in that redaction would no longer recognise: the first groups of a number
# ("+44 20 7946") or an IBAN, the first characters of an address ("jane.do"), or both. Chinese, Japanese and Korean
# text (from U+3000 on) is kept: it runs straight into numbers and addresses, with no space between.
_PARTIAL = re.compile(r"(?:[+(]*\d[\d ().\-/]*+)?(?:[^\W\u3000-\U0010ffff]|[.!#$%&'*+/=?^`{|}~@\-])*+\Z")


def _preview(value: bytes) -> str:
    """The first PREVIEW_CHARS characters of ``value`` with JSON string escapes decoded, so that redaction reads
    the text as it was written, not a "\\n" or "\\u5361" run into a number; malformed escapes are kept as they are.
    Where the value goes on past the preview, a number or an address cut in two is dropped: redaction would miss its
    first part. 12 bytes (an escaped surrogate pair) are read per character, for one more than the preview holds,
    which tells whether the value goes on."""
    head = value[: 12 * (PREVIEW_CHARS + 1)].decode("utf-8", errors="replace")
    text = _ESCAPE.sub(lambda escape: orjson.loads(f'"{escape.group()}"'), head)
    return text if len(text) <= PREVIEW_CHARS else _PARTIAL.sub("", text[:PREVIEW_CHARS])


@dataclass(frozen=True)
class DeadLetter:
    """One rejected input message and why it was rejected."""

    source_topic: str
    source_partition: int
    source_offset: int
    source_timestamp_ms: int | None
    key: bytes | None
    value: bytes | None
    kind: str
    reason: str
    failed_at: datetime
    source_headers: Headers = ()

    @property
    def topic(self) -> str:
        return dlq_topic(self.source_topic)

    @property
    def doc_id(self) -> str:
        """Deterministic: a replayed bad message does not count twice in the log. The message's own timestamp is
        part of it, so that a message at the same offset after the topic or the cluster was recreated does not
        overwrite an earlier one's record."""
        at = "" if self.source_timestamp_ms is None else f":{self.source_timestamp_ms}"
        return f"{self.source_topic}:{self.source_partition}:{self.source_offset}{at}"

    def headers(self) -> list[tuple[str, bytes | None]]:
        """The message's own headers (a trace id, a producer's tag), so that a replay sends it as it came, then
        the dead letter's."""
        headers = [(name, value) for name, value in self.source_headers if not name.startswith(OWN_HEADERS)]
        headers += [
            ("dlq.source.topic", self.source_topic.encode()),
            ("dlq.source.partition", str(self.source_partition).encode()),
            ("dlq.source.offset", str(self.source_offset).encode()),
            ("dlq.error.kind", self.kind.encode()),
            ("dlq.error.reason", self.reason.encode()),
            ("dlq.failed_at", self.failed_at.isoformat().encode()),
        ]
        if self.source_timestamp_ms is not None:
            headers.append(("dlq.source.timestamp_ms", str(self.source_timestamp_ms).encode()))
        return headers

    @property
    def event_id(self) -> str | None:
        """The ``event_id`` the message names, if it is a JSON object that names one: the preview is redacted,
        and an all-digit id there reads as a phone number, so the id is logged apart, for people to search by."""
        try:
            value = orjson.loads(self.value or b"")
        except orjson.JSONDecodeError:
            return None
        event_id = value.get("event_id") if isinstance(value, dict) else None
        return str(event_id)[:PREVIEW_CHARS] if isinstance(event_id, str | int) else None

    def log_document(self) -> dict:
        """What the decision log keeps of it: enough to find and replay the message, not the whole payload."""
        key = None if self.key is None else self.key[:PREVIEW_CHARS].decode("utf-8", errors="replace")
        return {
            "event_id": self.event_id,
            "key": key,
            "source_topic": self.source_topic,
            "source_partition": self.source_partition,
            "source_offset": self.source_offset,
            "source_timestamp_ms": self.source_timestamp_ms,
            "kind": self.kind,
            "reason": self.reason,
            "failed_at": self.failed_at.isoformat(),
            "size_bytes": len(self.value or b""),
            "preview": _preview(self.value or b""),
        }


def dead_letter(
    topic: str,
    partition: int,
    offset: int,
    timestamp: float | None,
    key: bytes | None,
    value: bytes | None,
    kind: str,
    reason: str,
    headers: Mapping[str, bytes | None] | Iterable[tuple[str, bytes | None]] | None = None,
) -> DeadLetter:
    """``timestamp`` is the message's, in seconds, as the consumer reads it (None where a message has none);
    ``headers`` are its own, as a mapping or as pairs (Faust gives either)."""
    at = None if timestamp is None else round(timestamp * 1000)
    pairs = (headers or {}).items() if isinstance(headers, Mapping | None) else headers
    own = tuple((str(name), value) for name, value in pairs)
    return DeadLetter(topic, partition, offset, at, key, value, kind, reason, datetime.now(UTC), own)
