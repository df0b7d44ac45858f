"""``train chat --if-missing`` retrains artifacts cached in an older version or trained with another seed."""

import json
from pathlib import Path

from streamsense.models.chat import dst, intent, knowledge
from streamsense.models.chat.training import DST, INTENT, KNOWLEDGE, artifacts_current, chat_dir


def test_artifacts_of_an_older_version_or_another_seed_are_not_current(tmp_path: Path) -> None:
    root = chat_dir(tmp_path)
    root.mkdir(parents=True)
    assert not artifacts_current(tmp_path, 0)
    for name, version in ((INTENT, intent.VERSION), (DST, dst.VERSION), (KNOWLEDGE, knowledge.VERSION)):
        (root / name).with_suffix(".json").write_text(json.dumps({"version": version}))
    (root / "summary.json").write_text(json.dumps({"seed": 0}))
    assert artifacts_current(tmp_path, 0)
    assert not artifacts_current(tmp_path, 1)
    (root / DST).with_suffix(".json").write_text(json.dumps({"version": "dst-1"}))
    assert not artifacts_current(tmp_path, 0)
