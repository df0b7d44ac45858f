from collections.abc import Callable

import pytest

from streamsense.datasets.multiwoz import Example, IntentData
from streamsense.models.chat.encoder_comparison import C_GRID, MIX_GRID, compare
from streamsense.models.chat.intent import IntentClassifier, IntentConfig
from streamsense.models.chat.sentence_encoder import SentenceEncoder

LABELS = {"hotel": "Hotel-Inform", "restaurant": "Restaurant-Inform", "thank": "general-thank", "train": "Train-Inform"}


@pytest.fixture
def corpus(intent_texts: dict[str, list[str]]) -> IntentData:
    """Every text for training; the texts without their first word for validation, without their last for test."""

    def examples(cut: Callable[[list[str]], list[str]]) -> list[Example]:
        return [
            Example(text=" ".join(cut(t.split())), intent=LABELS[name], template=t)
            for name, texts in intent_texts.items()
            for t in texts
        ]

    return IntentData(
        train=examples(lambda w: w),
        valid=examples(lambda w: w[1:]),
        test=examples(lambda w: w[:-1]),
        dropped_ambiguous=0,
    )


def test_comparison_scores_the_cached_model_as_it_predicts_and_picks_its_settings_from_the_grids(
    corpus: IntentData, tiny_encoder: SentenceEncoder, make_config: Callable[..., IntentConfig]
) -> None:
    model = IntentClassifier(make_config()).fit(
        [e.text for e in corpus.train],
        [e.intent for e in corpus.train],
        [e.text for e in corpus.valid],
        [e.intent for e in corpus.valid],
    )
    result = compare(model, tiny_encoder, corpus, {}, latency_messages=5)
    predicted = model.predict_many([e.text for e in corpus.test])
    own = sum(p == e.intent for p, e in zip(predicted, corpus.test, strict=True)) / len(corpus.test)
    assert result["intent_model"]["accuracy"] == round(own, 4)
    assert result["encoder_regression"]["c"] in C_GRID
    assert result["mix"]["encoder_weight"] in MIX_GRID
    for name in ("intent_model", "encoder_regression", "mix"):
        assert 0.0 <= result[name]["macro_f1"] <= 1.0
    assert result["latency_ms_one_core"]["encoder_one_message"]["p50"] > 0
    assert result["test_examples"] == len(corpus.test)
