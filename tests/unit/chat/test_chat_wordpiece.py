import json

import pytest

from streamsense.models.chat.wordpiece import WordPiece

VOCAB = {
    token: i
    for i, token in enumerate(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "hotel", "cafe", "un", "##want", "##ed", "!", ",", "'", "s", "深"]
    )
}


def tokenizer_json(**model: object) -> str:
    spec = {
        "normalizer": {"type": "BertNormalizer", "lowercase": True},
        "model": {"type": "WordPiece", "continuing_subword_prefix": "##", "vocab": VOCAB} | model,
    }
    return json.dumps(spec)


def test_words_are_lowercased_stripped_of_accents_and_split_at_punctuation() -> None:
    assert WordPiece.words("The Café's\tHOTEL,now!") == ["the", "cafe", "'", "s", "hotel", ",", "now", "!"]


def test_cjk_characters_become_words_of_their_own_and_control_characters_vanish() -> None:
    assert WordPiece.words("ab深圳\x00cd") == ["ab", "深", "圳", "cd"]


def test_a_word_splits_greedily_into_the_longest_pieces() -> None:
    tokenizer = WordPiece(VOCAB)
    assert tokenizer.ids("unwanted") == [VOCAB["[CLS]"], VOCAB["un"], VOCAB["##want"], VOCAB["##ed"], VOCAB["[SEP]"]]


def test_a_word_with_an_unmatched_part_or_too_long_is_one_unknown() -> None:
    tokenizer = WordPiece(VOCAB, max_word_chars=8)
    unk = VOCAB["[UNK]"]
    assert tokenizer.ids("unwantedx hotel") == [VOCAB["[CLS]"], unk, VOCAB["hotel"], VOCAB["[SEP]"]]
    assert tokenizer.ids("unwantedunwanted") == [VOCAB["[CLS]"], unk, VOCAB["[SEP]"]]


def test_a_long_text_is_cut_but_keeps_its_start_and_end_markers() -> None:
    ids = WordPiece(VOCAB, max_tokens=5).ids("the hotel the hotel the hotel")
    assert ids == [VOCAB["[CLS]"], VOCAB["the"], VOCAB["hotel"], VOCAB["the"], VOCAB["[SEP]"]]


def test_from_json_reads_the_vocabulary_and_refuses_other_tokenizers() -> None:
    assert WordPiece.from_json(tokenizer_json()).ids("hotel") == [VOCAB["[CLS]"], VOCAB["hotel"], VOCAB["[SEP]"]]
    with pytest.raises(ValueError, match="WordPiece"):
        WordPiece.from_json(tokenizer_json(type="BPE"))
