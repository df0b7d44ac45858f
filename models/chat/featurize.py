"""Hashed word and character n-grams: an open vocabulary that works for any script without a tokenizer."""

import itertools
import re
import zlib
from collections.abc import Mapping, Sequence

import numpy as np

WORD = re.compile(r"[^\W_]+")
TIME = re.compile(r"^\d\d:\d\d$")


def features(text: str) -> list[str]:
    """Word unigrams and bigrams plus character 3..5-grams of each word with boundary marks."""
    words = WORD.findall(text.lower())
    out = [f"w:{w}" for w in words]
    out += [f"b:{a} {b}" for a, b in itertools.pairwise(words)]
    for word in words:
        marked = f"<{word}>"
        for n in (3, 4, 5):
            out += [marked[i : i + n] for i in range(len(marked) - n + 1)]
    return out


class Gazetteer:
    """Database and ontology values found in a text, as the slots they can fill (``g:restaurant-name``).

    A name or a food type seen in no training sentence still says which domain a message is about. Times and
    numbers are tagged by shape only (``g:time``, ``g:number``): a user's "17:45" says nothing about its slot.
    """

    def __init__(self, lexicon: Mapping[str, Sequence[str]]) -> None:
        self.lexicon = {slot: list(values) for slot, values in lexicon.items()}
        self.tags: dict[str, set[str]] = {}
        for slot, values in self.lexicon.items():
            for value in values:
                value = value.lower()
                shape = "time" if TIME.match(value) else "number" if value.isdigit() else slot
                self.tags.setdefault(value, set()).add(f"g:{shape}")
        ordered = sorted(self.tags, key=len, reverse=True)
        self.pattern = re.compile(r"(?<![\w:])(" + "|".join(map(re.escape, ordered)) + r")(?![\w:])")

    def __call__(self, text: str) -> list[str]:
        if not self.tags:
            return []
        return sorted({tag for match in self.pattern.finditer(text.lower()) for tag in self.tags[match.group(1)]})


def hashes(text: str, gazetteer: Gazetteer | None = None) -> np.ndarray:
    """Stable 32-bit hashes of the features (crc32 does not depend on PYTHONHASHSEED), plus gazetteer tags."""
    found = features(text) + (gazetteer(text) if gazetteer else [])
    return np.fromiter((zlib.crc32(f.encode()) for f in found), dtype=np.int64)
