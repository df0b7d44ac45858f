"""The lexical head's factored domain x act pair and the mix weights chosen on validation."""

from collections.abc import Callable
from pathlib import Path

import numpy as np

from streamsense.models.chat.featurize import hashes
from streamsense.models.chat.intent import IntentClassifier, IntentConfig, LexicalHead, factor_labels

CORPUS = {
    "Hotel-Inform": ["I need a hotel in the north", "find me a cheap hotel", "a hotel with free parking"],
    "Hotel-Request": ["what is the hotel's phone number", "the hotel address please", "does the hotel have wifi"],
    "Restaurant-Inform": ["I want italian food", "find me a cheap restaurant", "a restaurant in the centre"],
    "Restaurant-Request": ["the restaurant's phone number", "what is the restaurant address", "restaurant postcode"],
    "general-thank": ["thank you very much", "thanks for your help", "many thanks"],
}


def _corpus() -> tuple[list[str], list[str]]:
    texts = [t for group in CORPUS.values() for t in group]
    return texts, [label for label, group in CORPUS.items() for _ in group]


def test_only_labels_that_share_a_domain_and_an_act_are_factored() -> None:
    labels = sorted(CORPUS)
    factors = factor_labels(labels)
    assert factors is not None
    domain, act, n_domains = factors
    assert n_domains == 3  # Hotel, Restaurant, general
    assert domain[labels.index("general-thank")] == -1 and act[labels.index("general-thank")] == -1
    assert domain[labels.index("Hotel-Request")] == domain[labels.index("Hotel-Inform")] >= 0
    assert act[labels.index("Hotel-Request")] == act[labels.index("Restaurant-Request")] >= n_domains
    assert factor_labels(["hotel", "restaurant"]) is None
    assert factor_labels(["Hotel-Inform", "general-thank"]) is None  # nothing shared


def test_factored_scores_are_normalised_and_neutral_for_unfactored_labels() -> None:
    texts, intents = _corpus()
    labels = sorted(set(intents))
    parts = [hashes(t) % 1024 for t in texts]
    head = LexicalHead.fit(parts, np.array([labels.index(i) for i in intents]), len(labels), 1024, 10.0, labels)
    assert head.factor_coef.shape == (3 + 3, 1024)  # three domains, then three acts (Inform, Request, thank)
    head.factor_weight = np.array(2.0)
    query = [hashes(t) % 1024 for t in ("the hotel phone number", "thanks a lot")]
    assert np.allclose(np.exp(head.log_proba(query)).sum(axis=1), 1.0, atol=1e-5)
    head.imprint(len(labels), [hashes("is it raining") % 1024])
    _, composite = head.components(query)
    assert composite.shape == (2, len(labels) + 1)
    factored = head.label_domain >= 0
    assert np.allclose(composite[:, ~factored], composite[:, factored].max(axis=1, keepdims=True))


def test_fit_chooses_mix_weights_from_the_grids_and_save_load_keeps_them(
    make_config: Callable[..., IntentConfig], tmp_path: Path
) -> None:
    texts, intents = _corpus()
    config = make_config(factor_weights=(0.0, 2.0), prior_powers=(0.0, 0.3))
    model = IntentClassifier(config).fit(texts, intents, texts, intents)
    assert model.lexical is not None
    assert float(model.lexical.factor_weight) in (0.0, 2.0) and model.prior_power in (0.0, 0.3)
    assert model.predict_many(["the restaurant phone number"]) == ["Restaurant-Request"]
    model.save(tmp_path / "intent.pt")
    loaded = IntentClassifier.load(tmp_path / "intent.pt")
    assert loaded.prior_power == model.prior_power
    assert loaded.lexical is not None and float(loaded.lexical.factor_weight) == float(model.lexical.factor_weight)
    assert loaded.predict("what is the hotel's address") == model.predict("what is the hotel's address")
