"""The issue's "measure and choose" between a frozen pretrained sentence encoder and the intent model trained here.

Three classifiers are scored on the held-out templates of ``streamsense eval intent``: the intent model as cached,
logistic regression on the frozen encoder's sentence vectors, and a log-linear mix of the two. The regression's C
and the mix weight are chosen on the validation templates by the mean of accuracy and macro-F1, as the intent
model's own mix is. Each is split into sentences that name a domain and sentences that do not
(``domain_cue_analysis``), and the latency of one message on one core is measured for the encoder and for the
intent model.
"""

import time
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from streamsense.datasets.multiwoz import IntentData
from streamsense.models.chat.evaluation import domain_cue_analysis, latency_ms
from streamsense.models.chat.intent import IntentClassifier
from streamsense.models.chat.sentence_encoder import SentenceEncoder

C_GRID = (1.0, 10.0, 100.0)
MIX_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def _score(gold: np.ndarray, predicted: np.ndarray) -> float:
    return (accuracy_score(gold, predicted) + f1_score(gold, predicted, average="macro")) / 2


def _summary(
    corpus: IntentData, lexicon: dict[str, list[str]], labels: Sequence[str], predicted: np.ndarray
) -> dict[str, float]:
    names = [labels[i] for i in predicted]
    gold = [e.intent for e in corpus.test]
    cues = domain_cue_analysis(corpus.train, corpus.test, names, lexicon)
    return {
        "accuracy": round(float(accuracy_score(gold, names)), 4),
        "macro_f1": round(float(f1_score(gold, names, average="macro")), 4),
        "accuracy_cued": cues["accuracy_cued"],
        "accuracy_domain_free": cues["accuracy_domain_free"],
    }


def compare(
    model: IntentClassifier,
    encoder: SentenceEncoder,
    corpus: IntentData,
    lexicon: dict[str, list[str]],
    latency_messages: int = 300,
) -> dict:
    """Held-out scores of the three classifiers, the choices made on validation, and per-message latency (the
    caller sets torch's threads: the CLI runs it on one core)."""
    index = {label: i for i, label in enumerate(model.labels)}
    splits = {"train": corpus.train, "valid": corpus.valid, "test": corpus.test}
    gold = {name: np.array([index[e.intent] for e in part]) for name, part in splits.items()}
    texts = {name: [e.text for e in part] for name, part in splits.items()}

    start = time.perf_counter()
    vectors = {name: encoder.encode(texts[name]) for name in splits}
    encode_s = time.perf_counter() - start
    n_encoded = sum(len(t) for t in texts.values())

    regressions = {c: LogisticRegression(C=c, max_iter=3000).fit(vectors["train"], gold["train"]) for c in C_GRID}
    best_c = max(C_GRID, key=lambda c: _score(gold["valid"], regressions[c].predict(vectors["valid"])))
    regression = regressions[best_c]

    def encoder_log_proba(name: str) -> np.ndarray:
        """Log-probabilities over the intent model's labels (every label is in the training split)."""
        out = np.full((len(texts[name]), len(model.labels)), -1e9)
        out[:, regression.classes_] = regression.predict_log_proba(vectors[name])
        return out

    ours = {name: torch.log_softmax(model.logits(texts[name]), dim=1).numpy() for name in ("valid", "test")}
    theirs = {name: encoder_log_proba(name) for name in ("valid", "test")}

    def mixed(name: str, weight: float) -> np.ndarray:
        return ((1 - weight) * ours[name] + weight * theirs[name]).argmax(axis=1)

    best_weight = max(MIX_GRID, key=lambda w: _score(gold["valid"], mixed("valid", w)))

    sample = texts["test"][:latency_messages]
    return {
        "test_examples": len(texts["test"]),
        "intent_model": _summary(corpus, lexicon, model.labels, ours["test"].argmax(axis=1)),
        "encoder_regression": {"c": best_c, **_summary(corpus, lexicon, model.labels, theirs["test"].argmax(axis=1))},
        "mix": {"encoder_weight": best_weight, **_summary(corpus, lexicon, model.labels, mixed("test", best_weight))},
        "latency_ms_one_core": {
            "encoder_one_message": latency_ms(lambda t: encoder.encode([t]), sample),
            "intent_model_predict": latency_ms(model.predict, sample),
        },
        "encoder_sentences_per_s_one_core_batched": round(n_encoded / encode_s, 1),
    }
