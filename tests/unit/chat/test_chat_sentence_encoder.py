import json
import struct
from collections.abc import Callable

import numpy as np
import pytest
import torch

from streamsense.models.chat.sentence_encoder import SentenceEncoder, read_safetensors


def test_safetensors_bytes_read_back_to_the_same_tensors(make_safetensors: Callable[..., bytes]) -> None:
    tensors = {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.tensor([1.5])}
    read = read_safetensors(make_safetensors(tensors, metadata={"format": "pt"}))
    assert set(read) == {"a", "b"}
    assert torch.equal(read["a"], tensors["a"]) and torch.equal(read["b"], tensors["b"])


def test_an_unsupported_dtype_is_refused_by_name() -> None:
    encoded = json.dumps({"w": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}).encode()
    with pytest.raises(ValueError, match="w: dtype BF16"):
        read_safetensors(struct.pack("<Q", len(encoded)) + encoded + b"\0\0")


def test_sentence_vectors_have_unit_length_and_follow_the_input_order(tiny_encoder: SentenceEncoder) -> None:
    texts = ["I need a train to london", "thanks", "book a hotel in the north please for two nights"]
    vectors = tiny_encoder.encode(texts, batch_size=2)
    assert vectors.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(vectors[1], tiny_encoder.encode(["thanks"])[0], atol=1e-6)


def test_padding_in_a_batch_does_not_change_a_sentence_vector(tiny_encoder: SentenceEncoder) -> None:
    alone = tiny_encoder.encode(["thanks"])
    beside_a_long_one = tiny_encoder.encode(["thanks", "I would like a four star hotel in the north with parking"])
    np.testing.assert_allclose(alone[0], beside_a_long_one[0], atol=1e-5)


def test_more_tokens_than_the_encoder_has_positions_is_refused(encoder_files: tuple[dict, str, bytes]) -> None:
    config, tokenizer, weights = encoder_files
    with pytest.raises(ValueError, match="256 positions"):
        SentenceEncoder(config, tokenizer, read_safetensors(weights), max_tokens=257)
