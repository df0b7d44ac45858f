from pathlib import Path

import torch
from aiokafka import TopicPartition

from streamsense.streams.learned_snapshot import Snapshot, load_snapshot, save_snapshot

IDS = {"chat.intents": "id-1", "chat.feedback": "id-2"}


def _snapshot() -> Snapshot:
    positions = {TopicPartition("chat.intents", 0): 3, TopicPartition("chat.feedback", 7): 12}
    learned = {"labels": ["a", "b"], "seen": torch.tensor([1, 2])}
    return Snapshot("model-a", IDS, positions, learned, {"added": {"x": [5, "2026-12-01T00:00:00+00:00"]}})


def test_a_snapshot_is_taken_up_with_its_positions_and_learned_state(tmp_path: Path) -> None:
    save_snapshot(tmp_path / "chat-learned.pt", _snapshot())
    kept = load_snapshot(tmp_path / "chat-learned.pt", "model-a", IDS)
    assert kept is not None
    assert kept.positions == _snapshot().positions
    assert kept.learned["labels"] == ["a", "b"] and torch.equal(kept.learned["seen"], torch.tensor([1, 2]))
    assert kept.ledger == _snapshot().ledger
    assert not (tmp_path / "chat-learned.partial").exists()


def test_a_snapshot_of_another_model_or_of_recreated_topics_or_unreadable_is_not_taken_up(tmp_path: Path) -> None:
    path = tmp_path / "chat-learned.pt"
    assert load_snapshot(path, "model-a", IDS) is None
    save_snapshot(path, _snapshot())
    assert load_snapshot(path, "model-b", IDS) is None
    assert load_snapshot(path, "model-a", {**IDS, "chat.feedback": "id-3"}) is None
    path.write_bytes(b"not a snapshot")
    assert load_snapshot(path, "model-a", IDS) is None
