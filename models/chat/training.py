"""Trains and caches every chat artifact (intent classifier, state tracker, knowledge retriever), seeded."""

import json
import time
from collections import Counter
from pathlib import Path

import torch

from streamsense.datasets.dialogues import clean_templates, generate
from streamsense.datasets.multiwoz import (
    MultiWOZ,
    intent_data,
    realise,
    split_templates,
    value_aliases,
    value_lexicon,
)
from streamsense.models.chat.dst import DialogueStateTracker
from streamsense.models.chat.intent import FALLBACK, IntentClassifier, IntentConfig, IntentPrediction
from streamsense.models.chat.knowledge import KnowledgeRetriever, build_graph, load_faq
from streamsense.models.chat.times import clock_times

INTENT = "intent.pt"
DST = "dst"
KNOWLEDGE = "knowledge"


def chat_dir(artifact_dir: Path) -> Path:
    return artifact_dir / "chat"


def trained_intents(artifact_dir: Path) -> list[str] | None:
    """The trained intent model's intents, read from its sidecar without loading the model; None when untrained."""
    sidecar = (chat_dir(artifact_dir) / INTENT).with_suffix(".json")
    return json.loads(sidecar.read_text())["labels"] if sidecar.exists() else None


def artifacts_current(artifact_dir: Path, seed: int) -> bool:
    """True when every chat artifact is cached in the version this code reads (an older one must be retrained) and
    was trained with ``seed``."""
    from streamsense.models.chat import dst, intent, knowledge

    root = chat_dir(artifact_dir)
    wanted = {INTENT: intent.VERSION, DST: dst.VERSION, KNOWLEDGE: knowledge.VERSION}
    for name, version in wanted.items():
        sidecar = (root / name).with_suffix(".json")
        if not sidecar.exists() or json.loads(sidecar.read_text()).get("version") != version:
            return False
    summary = root / "summary.json"
    return summary.exists() and json.loads(summary.read_text()).get("seed") == seed


def tracker_input(
    prediction: IntentPrediction, tracker: DialogueStateTracker, text: str
) -> list[tuple[str, float]] | str:
    """What the pipeline hands the tracker: the ranked intents, or ``uncertain`` for an uncertain message (out of
    scope or below the threshold) that holds no database value, so that "ok" or "no, that's fine" keeps the
    conversation's domain (`streamsense eval dst`, ``with_fillers``). One that holds a value is in scope for the
    tracker: on validation dialogues the out-of-scope gate mostly caught long entity names that dilute the
    similarity ("I'm coming from hughes hall"), and no out-of-scope example holds a value."""
    if prediction.label == FALLBACK and not tracker.candidates(clock_times(text)):
        return FALLBACK
    return prediction.intents


def train_tracker(
    data: MultiWOZ,
    intent: IntentClassifier,
    intent_counts: dict[str, int],
    seed: int = 0,
    copies: int = 2,
    context_dialogues: int = 3000,
    valid_dialogues: int = 300,
    c: float = 0.25,
) -> DialogueStateTracker:
    """Slot assignment learnt on the training templates whose every value is a placeholder (in the others a
    real value left in the text would be labelled "no slot"); domain transitions counted on dialogues generated from
    all training templates; the emission and prior powers tuned on dialogues generated from the validation templates
    with the intents the intent model predicts."""
    lexicon = value_lexicon(data)
    split = split_templates(data.templates, seed=seed)
    examples = realise(clean_templates(split.train, lexicon), lexicon, seed=seed, copies=copies)
    tracker = DialogueStateTracker(lexicon, aliases=value_aliases())
    tracker.fit(((e.text, e.intent, e.spans) for e in examples), c=c)
    context = generate(data, split.train, context_dialogues, seed=seed + 30)
    tracker.fit_context(([t.intent for t in d.turns] for d in context), intent_counts)
    valid = generate(data, clean_templates(split.valid, lexicon), valid_dialogues, seed=seed + 50)
    turns = [
        [(t.text, tracker_input(intent.predict(t.text), tracker, t.text), t.state) for t in d.turns] for d in valid
    ]
    tracker.metrics = {
        "train_examples": len(examples),
        "context_dialogues": len(context),
        "valid_dialogues": len(valid),
        **tracker.tune(turns),
    }
    return tracker


def train_all(artifact_dir: Path, seed: int = 0, data: MultiWOZ | None = None) -> dict:
    """Intent model on the training templates (calibrated on validation), tracker on their value spans, graph."""
    torch.manual_seed(seed)
    data = data or MultiWOZ.load()
    corpus = intent_data(data, seed=seed)
    out = chat_dir(artifact_dir)
    timings = {}

    start = time.perf_counter()
    intent = IntentClassifier(IntentConfig(seed=seed)).fit(
        [e.text for e in corpus.train],
        [e.intent for e in corpus.train],
        [e.text for e in corpus.valid],
        [e.intent for e in corpus.valid],
    )
    predicted = intent.predict_many([e.text for e in corpus.valid])
    intent.metrics = {
        "valid_accuracy": sum(p == e.intent for p, e in zip(predicted, corpus.valid, strict=True)) / len(predicted)
    }
    intent.save(out / INTENT)
    timings["intent_s"] = time.perf_counter() - start

    start = time.perf_counter()
    tracker = train_tracker(data, intent, Counter(e.intent for e in corpus.train), seed=seed)
    tracker.save(out / DST)
    timings["dst_s"] = time.perf_counter() - start

    start = time.perf_counter()
    retriever = KnowledgeRetriever.train(build_graph(data.databases, load_faq()))
    retriever.save(out / KNOWLEDGE)
    timings["knowledge_s"] = time.perf_counter() - start

    summary = {
        "artifacts": str(out),
        "seed": seed,
        "train_examples": len(corpus.train),
        "valid_examples": len(corpus.valid),
        "intent_valid_accuracy": round(intent.metrics["valid_accuracy"], 4),
        "temperature": round(intent.temperature, 4),
        "dst": tracker.metrics,
        "knowledge_graph_weight": retriever.graph_weight,
        "knowledge_document_weight": retriever.document_weight,
        "seconds": {k: round(v, 1) for k, v in timings.items()},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
