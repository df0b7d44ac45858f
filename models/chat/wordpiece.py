"""BERT's uncased WordPiece tokenizer (the ``BertNormalizer`` + ``BertPreTokenizer`` + ``WordPiece`` of a
``tokenizer.json``), in plain Python.

Written here because the ``tokenizers`` package needs ``huggingface-hub``, whose click pin conflicts with Faust's;
the ids match ``tokenizers`` on every sentence of the intent corpus (checked when this was written; the unit tests
pin the rules on a small vocabulary).
"""

import json
import unicodedata

CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_cjk(cp: int) -> bool:
    return any(low <= cp <= high for low, high in CJK_RANGES)


def _is_punctuation(char: str) -> bool:
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char) in ("Cc", "Cf")


class WordPiece:
    """``ids(text)`` -> ``[CLS] pieces... [SEP]``, cut to ``max_tokens`` in all."""

    def __init__(self, vocab: dict[str, int], max_tokens: int = 256, max_word_chars: int = 100) -> None:
        self.vocab = vocab
        self.max_tokens = max_tokens
        self.max_word_chars = max_word_chars
        self.unk, self.cls, self.sep = vocab["[UNK]"], vocab["[CLS]"], vocab["[SEP]"]
        self.pad = vocab.get("[PAD]", 0)

    @classmethod
    def from_json(cls, tokenizer_json: str, max_tokens: int = 256) -> "WordPiece":
        """From a ``tokenizer.json``; refuses anything but an uncased BERT WordPiece, whose rules are the ones here."""
        spec = json.loads(tokenizer_json)
        normalizer, model = spec.get("normalizer") or {}, spec["model"]
        if model.get("type") != "WordPiece" or normalizer.get("type") != "BertNormalizer":
            raise ValueError("only BERT WordPiece tokenizers are supported")
        if not normalizer.get("lowercase") or model.get("continuing_subword_prefix") != "##":
            raise ValueError("only uncased tokenizers with '##' continuations are supported")
        return cls(model["vocab"], max_tokens, int(model.get("max_input_chars_per_word", 100)))

    @staticmethod
    def words(text: str) -> list[str]:
        """Cleaned, lowercased, accents stripped, CJK characters and punctuation split into words of their own."""
        spaced = []
        for char in text:
            cp = ord(char)
            if cp == 0 or cp == 0xFFFD or _is_control(char):
                continue
            if char.isspace() or unicodedata.category(char) == "Zs":
                spaced.append(" ")
            elif _is_cjk(cp):
                spaced.append(f" {char} ")
            else:
                spaced.append(char)
        folded = unicodedata.normalize("NFD", "".join(spaced).lower())
        folded = "".join(c for c in folded if unicodedata.category(c) != "Mn")
        words: list[str] = []
        for chunk in folded.split():
            current = ""
            for char in chunk:
                if _is_punctuation(char):
                    if current:
                        words.append(current)
                    words.append(char)
                    current = ""
                else:
                    current += char
            if current:
                words.append(current)
        return words

    def pieces(self, word: str) -> list[int]:
        """Greedy longest-match-first; a word with any unmatched part is one ``[UNK]``."""
        if len(word) > self.max_word_chars:
            return [self.unk]
        ids, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else f"##{word[start:end]}"
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    break
                end -= 1
            if end == start:
                return [self.unk]
            start = end
        return ids

    def ids(self, text: str) -> list[int]:
        body = [i for word in self.words(text) for i in self.pieces(word)]
        return [self.cls, *body[: self.max_tokens - 2], self.sep]
