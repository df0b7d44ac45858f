import pytest

from streamsense.models.chat.evaluation import OtherSplit, split_seed
from streamsense.models.chat.intent import IntentClassifier, IntentConfig


def test_the_evaluation_split_defaults_to_the_one_the_model_was_trained_on_and_refuses_another() -> None:
    model = IntentClassifier(IntentConfig(buckets=64, dim=4, hidden=4, seed=7))
    assert split_seed(model, None) == 7
    assert split_seed(model, 7) == 7
    with pytest.raises(OtherSplit, match="train chat --seed 1"):
        split_seed(model, 1)
