"""``train chat --if-missing`` retrains artifacts cached in an older version."""

import json
from pathlib import Path

from streamsense.models.chat import dst, intent, knowledge
from streamsense.models.chat.training import DST, INTENT, KNOWLEDGE, artifacts_current, chat_dir


def test_artifacts_of_an_older_version_are_not_current(tmp_path: Path) -> None:
    root = chat_dir(tmp_path)
    root.mkdir(parents=True)
    assert not artifacts_current(tmp_path)
    for name, version in ((INTENT, intent.VERSION), (DST, dst.VERSION), (KNOWLEDGE, knowledge.VERSION)):
        (root / name).with_suffix(".json").write_text(json.dumps({"version": version}))
    (root / "summary.json").write_text("{}")
    assert artifacts_current(tmp_path)
    (root / DST).with_suffix(".json").write_text(json.dumps({"version": "dst-1"}))
    assert not artifacts_current(tmp_path)
