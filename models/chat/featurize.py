"""Hashed word and character n-grams: an open vocabulary that works for any script without a tokenizer."""

import itertools
import re
import zlib

import numpy as np

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
"""Kana and CJK ideographs: written without spaces, so each character is a word (Chinese and Japanese models
commonly read characters and their pairs). As one word, a whole sentence shared few n-grams with another saying
the same: an intent added from Chinese examples answered only those examples."""

WORD = re.compile(rf"[{CJK}]|[^\W_{CJK}]+")


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


def hashes(text: str) -> np.ndarray:
    """Stable 32-bit hashes of the features (crc32 does not depend on PYTHONHASHSEED)."""
    return np.fromiter((zlib.crc32(f.encode()) for f in features(text)), dtype=np.int64)
