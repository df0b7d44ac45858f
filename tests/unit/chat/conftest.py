"""Tiny hand-written MultiWOZ-like data and a tiny intent model, so chat unit tests run in seconds."""

import json
import struct
from collections.abc import Callable

import pytest
import torch

from streamsense.datasets.multiwoz import MultiWOZ, intent_data, value_lexicon
from streamsense.models.chat.dst import DialogueStateTracker
from streamsense.models.chat.intent import IntentClassifier, IntentConfig
from streamsense.models.chat.sentence_encoder import SentenceEncoder, read_safetensors
from streamsense.models.chat.wordpiece import WordPiece

TEMPLATES = {
    "Hotel-Inform": [
        "I need a place to stay in the #HOTEL-INFORM-AREA# please .",
        "I would like a #HOTEL-INFORM-STARS# star hotel in the #HOTEL-INFORM-AREA# .",
        "i would like a #HOTEL-INFORM-STARS# star hotel in the #HOTEL-INFORM-AREA#",
        "Book it for #HOTEL-INFORM-PEOPLE# people for #HOTEL-INFORM-STAY# nights .",
        "Can you find me a #HOTEL-INFORM-PRICE# hotel ?",
        "I am looking for a hotel called #HOTEL-INFORM-NAME# .",
    ],
    "Restaurant-Inform": [
        "I want #RESTAURANT-INFORM-FOOD# food in the #RESTAURANT-INFORM-AREA# .",
        "Find me a #RESTAURANT-INFORM-PRICE# restaurant please .",
        "A table for #RESTAURANT-INFORM-PEOPLE# at #RESTAURANT-INFORM-TIME# on #RESTAURANT-INFORM-DAY# .",
        "I am looking for #RESTAURANT-INFORM-FOOD# food .",
    ],
    "general-thank": ["Thank you so much .", "Thanks , that is all .", "thanks for your help"],
    "Attraction-Request": ["I need a place to stay in the #HOTEL-INFORM-AREA# please ."],
}

DATABASES = {
    "hotel": [
        {
            "name": "Acorn Guest House",
            "area": "north",
            "pricerange": "moderate",
            "type": "guesthouse",
            "stars": "4",
            "parking": "yes",
            "internet": "yes",
        },
        {
            "name": "Gonville Hotel",
            "area": "centre",
            "pricerange": "expensive",
            "type": "hotel",
            "stars": "3",
            "parking": "yes",
            "internet": "yes",
        },
    ],
    "restaurant": [
        {"name": "Pizza Hut City Centre", "area": "centre", "food": "italian", "pricerange": "cheap"},
        {"name": "Golden Wok", "area": "north", "food": "chinese", "pricerange": "moderate"},
    ],
    "attraction": [{"name": "Kings College", "area": "centre", "type": "college"}],
    "train": [{"departure": "cambridge", "destination": "ely"}],
    "hospital": [{"department": "neurology"}],
    "police": [{"name": "Parkside Police Station"}],
}

ONTOLOGY = {
    "restaurant-book time": ["18:45", "19:15", "do n't care"],
    "train-leave at": ["09:15"],
    "train-arrive by": ["10:45"],
    "taxi-leave at": ["08:00"],
    "taxi-arrive by": ["12:30"],
    "attraction-type": ["college", "museum"],
}

INTENT_TEXTS = {
    "hotel": [
        "I need a hotel in the north",
        "find me a cheap hotel",
        "I want a guest house with free parking",
        "book a hotel room for two nights",
        "a 4 star hotel please",
        "is there a hotel in the centre",
        "I am looking for somewhere to stay",
        "a place to stay with wifi",
        "I need a room for tonight",
        "find a guesthouse in the east",
        "an expensive hotel in the south",
        "book me a room for three people",
    ],
    "restaurant": [
        "I want italian food",
        "find me a cheap restaurant",
        "book a table for two at 19:00",
        "is there a chinese restaurant in the centre",
        "I am hungry, where can I eat",
        "a place to eat in the north",
        "I want to have dinner somewhere nice",
        "find an indian restaurant",
        "reserve a table for four",
        "a moderate priced restaurant please",
        "somewhere serving seafood",
        "I would like to eat thai food",
    ],
    "thank": [
        "thank you very much",
        "thanks for your help",
        "thank you that is all",
        "great thanks",
        "thanks a lot",
        "many thanks",
        "thank you goodbye",
        "cheers thanks",
        "thanks so much for the help",
        "ok thank you",
        "thank you kindly",
        "that's all thanks",
    ],
    "train": [
        "I need a train to london",
        "when does the train leave",
        "book a train ticket to ely",
        "a train on friday morning",
        "I want to travel by train",
        "train from cambridge to norwich",
        "the train should arrive by 10:45",
        "I need to catch a train",
        "a train leaving after 09:00",
        "what trains go to peterborough",
        "book two train tickets",
        "I want the earliest train",
    ],
}


def tiny_config(**overrides: float) -> IntentConfig:
    values = {"buckets": 1 << 12, "dim": 16, "hidden": 32, "epochs": 40, "batch_size": 8, "lr": 1e-2} | overrides
    return IntentConfig(**values)


def intent_corpus(names: tuple[str, ...] = ("hotel", "restaurant", "thank", "train")) -> tuple[list[str], list[str]]:
    texts = [t for name in names for t in INTENT_TEXTS[name]]
    labels = [name for name in names for _ in INTENT_TEXTS[name]]
    return texts, labels


@pytest.fixture
def tiny_multiwoz() -> MultiWOZ:
    return MultiWOZ(templates=TEMPLATES, databases=DATABASES, ontology=ONTOLOGY)


@pytest.fixture(scope="module")
def tiny_intent_model() -> IntentClassifier:
    texts, labels = intent_corpus()
    shortened = [" ".join(t.split()[1:]) for t in texts]
    return IntentClassifier(tiny_config()).fit(texts, labels, shortened, labels)


@pytest.fixture
def intent_texts() -> dict[str, list[str]]:
    return INTENT_TEXTS


@pytest.fixture
def make_config() -> Callable[..., IntentConfig]:
    return tiny_config


@pytest.fixture
def make_corpus() -> Callable[..., tuple[list[str], list[str]]]:
    return intent_corpus


def safetensors_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors layout: header length, JSON header with offsets (and optional metadata), then the float32
    data."""
    header: dict = {"__metadata__": metadata} if metadata else {}
    chunks, offset = [], 0
    for name, tensor in tensors.items():
        data = tensor.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks)


def tiny_encoder_files(seed: int = 0) -> tuple[dict, str, bytes]:
    """A two-layer BERT of width 8 with random weights over the words of the intent texts, as config, tokenizer
    JSON and safetensors bytes."""
    words = sorted({w for texts in INTENT_TEXTS.values() for t in texts for w in WordPiece.words(t)})
    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *words])}
    config = {"hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 2, "layer_norm_eps": 1e-12}
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator) * 0.5

    tensors = {
        "embeddings.word_embeddings.weight": rand(len(vocab), 8),
        "embeddings.position_embeddings.weight": rand(256, 8),
        "embeddings.token_type_embeddings.weight": rand(2, 8),
        "embeddings.LayerNorm.weight": torch.ones(8),
        "embeddings.LayerNorm.bias": torch.zeros(8),
    }
    for i in range(2):
        layer = f"encoder.layer.{i}"
        for name, (rows, cols) in {
            "attention.self.query": (8, 8),
            "attention.self.key": (8, 8),
            "attention.self.value": (8, 8),
            "attention.output.dense": (8, 8),
            "intermediate.dense": (16, 8),
            "output.dense": (8, 16),
        }.items():
            tensors[f"{layer}.{name}.weight"] = rand(rows, cols)
            tensors[f"{layer}.{name}.bias"] = rand(rows)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            tensors[f"{layer}.{norm}.weight"] = torch.ones(8)
            tensors[f"{layer}.{norm}.bias"] = torch.zeros(8)
    tokenizer = {
        "normalizer": {"type": "BertNormalizer", "lowercase": True},
        "model": {"type": "WordPiece", "continuing_subword_prefix": "##", "vocab": vocab},
    }
    return config, json.dumps(tokenizer), safetensors_bytes(tensors)


@pytest.fixture
def make_safetensors() -> Callable[..., bytes]:
    return safetensors_bytes


@pytest.fixture
def encoder_files() -> tuple[dict, str, bytes]:
    return tiny_encoder_files()


@pytest.fixture
def tiny_encoder() -> SentenceEncoder:
    config, tokenizer, weights = tiny_encoder_files()
    return SentenceEncoder(config, tokenizer, read_safetensors(weights))


@pytest.fixture
def tracker(tiny_multiwoz: MultiWOZ) -> DialogueStateTracker:
    """A state tracker fitted on every split of the tiny data."""
    corpus = intent_data(tiny_multiwoz, seed=0, train_copies=8)
    examples = corpus.train + corpus.valid + corpus.test
    return DialogueStateTracker(value_lexicon(tiny_multiwoz)).fit(
        ((e.text, e.intent, e.spans) for e in examples), c=4.0
    )
