"""A chat worker's snapshot of what it learned from the topics it follows, so that a restart replays only what came
after it.

Every chat worker applies every new intent and feedback event (``streams/follower.py``), and both topics are kept
for ever, so a worker that replayed them whole at each start would take longer with every event (about 6 ms a
feedback step). Every ``chat_snapshot_s`` a worker writes, in its own data dir, the model's learned state with the
follower's positions; a restarted worker takes it up and follows on from those positions. A snapshot counts only
for the same trained model and the same topics: Kafka gives a topic deleted and created again a new id, and its
offsets start afresh.
"""

import logging
import os
from pathlib import Path
from typing import NamedTuple

import torch
from aiokafka import TopicPartition

from streamsense.streams.follower import Positions

log = logging.getLogger(__name__)


class Snapshot(NamedTuple):
    """The model's learned state, and the ledger of what it applied, after the follower applied everything before
    ``positions``."""

    artifact: str
    topic_ids: dict[str, str]
    positions: Positions
    learned: dict
    ledger: dict


def save_snapshot(path: Path, snapshot: Snapshot) -> None:
    """Write ``snapshot`` whole or not at all (a crash mid-write leaves the previous one)."""
    partial = path.with_suffix(".partial")
    positions = [[tp.topic, tp.partition, offset] for tp, offset in snapshot.positions.items()]
    torch.save({**snapshot._asdict(), "positions": positions}, partial)
    os.replace(partial, path)


def load_snapshot(path: Path, artifact: str, topic_ids: dict[str, str]) -> Snapshot | None:
    """The snapshot at ``path`` if it was taken from the model ``artifact`` on the topics ``topic_ids``."""
    if not path.exists():
        return None
    try:
        state = torch.load(path, weights_only=True)
    except Exception:
        log.exception("the snapshot %s cannot be read; the worker replays the topics whole", path)
        return None
    if state["artifact"] != artifact or state["topic_ids"] != topic_ids:
        log.info("the snapshot %s is of another model or of topics since deleted; the worker replays them", path)
        return None
    positions = {TopicPartition(topic, partition): offset for topic, partition, offset in state["positions"]}
    return Snapshot(artifact, topic_ids, positions, state["learned"], state["ledger"])
