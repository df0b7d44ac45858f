"""Offline evaluation of the chat models on held-out templates, generated dialogues and held-out FAQ questions."""

import copy
import json
import statistics
import time
from pathlib import Path

import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from streamsense.datasets import kg_benchmarks
from streamsense.datasets.dialogues import clean_templates, generate
from streamsense.datasets.multiwoz import MultiWOZ, intent_data, split_templates, value_lexicon
from streamsense.models.chat.calibration import expected_calibration_error
from streamsense.models.chat.dst import empty_state, joint_goal_accuracy
from streamsense.models.chat.gnn import GNNConfig, evaluate_link_prediction, index_triples, train_link_predictor
from streamsense.models.chat.intent import FALLBACK, IntentClassifier
from streamsense.models.chat.knowledge import load_faq
from streamsense.models.chat.pipeline import ChatPipeline

DATA = Path(__file__).resolve().parents[2] / "datasets" / "data" / "chat"
# Lin, Socher & Xiong (EMNLP 2018), "Multi-Hop Knowledge Graph Reasoning with Reward Shaping", Table 3 (Kinship,
# filtered). Quoted without re-checking the paper in this environment (no web access): verify before relying on them.
PUBLISHED = {
    "kinships": {
        "source": "Lin et al. 2018 (EMNLP), Table 3; quoted from memory, not re-checked",
        "ComplEx": {"mrr": 0.838, "hits_at_10": 0.980},
        "ConvE": {"mrr": 0.797, "hits_at_10": 0.981},
    },
    "nations": {"source": "no published figure verified in this environment"},
}


def _r(x: float) -> float:
    return round(float(x), 4)


def out_of_scope() -> list[str]:
    return [line for line in (DATA / "out_of_scope.txt").read_text().splitlines() if line.strip()]


def new_intents() -> dict[str, dict[str, list[str]]]:
    return json.loads((DATA / "new_intents.json").read_text())["intents"]


def _accuracy(model: IntentClassifier, texts: list[str], labels: list[str]) -> float:
    return accuracy_score(labels, model.predict_many(texts))


def _latency_ms(model: IntentClassifier, texts: list[str]) -> dict[str, float]:
    times = []
    for text in texts:
        start = time.perf_counter()
        model.predict(text)
        times.append((time.perf_counter() - start) * 1e3)
    return latency_summary(times)


def evaluate_intent(artifact_dir: Path, seed: int = 0) -> dict:
    """Accuracy/macro-F1 on held-out templates beside a TF-IDF + LR baseline; calibration; fallback; few-shot;
    continual learning with and without EWC; INT8 quantization."""
    torch.set_num_threads(1)
    corpus = intent_data(MultiWOZ.load(), seed=seed)
    pipeline = ChatPipeline.load(artifact_dir)
    model = pipeline.intent
    texts, labels = [e.text for e in corpus.test], [e.intent for e in corpus.test]
    predicted = model.predict_many(texts)

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    baseline = LogisticRegression(max_iter=1000).fit(
        vectorizer.fit_transform([e.text for e in corpus.train]), [e.intent for e in corpus.train]
    )
    base_predicted = baseline.predict(vectorizer.transform(texts))

    target = torch.tensor([model.labels.index(y) for y in labels])
    logits = model.logits(texts)
    ece_raw = expected_calibration_error(torch.softmax(logits, dim=1), target)
    ece_cal = expected_calibration_error(torch.softmax(logits / model.temperature, dim=1), target)
    decisions = [model.predict(t) for t in texts]
    accepted = [(d.label, y) for d, y in zip(decisions, labels, strict=True) if d.label != FALLBACK]
    oos = out_of_scope()
    chinese = [t for t in oos if not t.isascii()]
    english = [t for t in oos if t.isascii()]

    result = {
        "test_examples": len(texts),
        "test_templates": len({e.template for e in corpus.test}),
        "dropped_ambiguous_templates": corpus.dropped_ambiguous,
        "accuracy": _r(accuracy_score(labels, predicted)),
        "macro_f1": _r(f1_score(labels, predicted, average="macro")),
        "baseline": {
            "model": "tfidf word 1-2 grams + logistic regression",
            "accuracy": _r(accuracy_score(labels, base_predicted)),
            "macro_f1": _r(f1_score(labels, base_predicted, average="macro")),
        },
        "calibration": {"temperature": _r(model.temperature), "ece_before": _r(ece_raw), "ece_after": _r(ece_cal)},
        "fallback": {
            "threshold": 0.85,
            "in_scope_fallback_rate": _r(1 - len(accepted) / len(texts)),
            "accuracy_when_answered": _r(sum(p == y for p, y in accepted) / max(len(accepted), 1)),
            "out_of_scope_english_fallback_rate": _r(
                sum(model.predict(t).label == FALLBACK for t in english) / len(english)
            ),
            "out_of_scope_chinese_fallback_rate": _r(
                sum(model.predict(t).label == FALLBACK for t in chinese) / len(chinese)
            ),
            "out_of_scope_examples": len(oos),
        },
    }
    result["few_shot"] = _few_shot(model, texts, labels)
    result["continual_learning"] = _continual(model, texts, labels)
    result["quantization"] = _quantization(model, texts, labels)
    return result


def _few_shot(model: IntentClassifier, texts: list[str], labels: list[str]) -> dict:
    """New intents from 5 and 10 examples each (prototype imprinting), scored on their own query sentences."""
    out = {}
    for shots in (5, 10):
        trial = copy.deepcopy(model)
        queries, answers = [], []
        for name, data in new_intents().items():
            trial.add_intent(name, data["support"][:shots])
            queries += data["query"]
            answers += [name] * len(data["query"])
        out[f"{shots}_shot"] = {
            "new_intent_accuracy": _r(_accuracy(trial, queries, answers)),
            "old_intent_accuracy": _r(_accuracy(trial, texts, labels)),
        }
    out["old_intent_accuracy_before"] = _r(_accuracy(model, texts, labels))
    return out


def _continual(model: IntentClassifier, texts: list[str], labels: list[str], passes: int = 5) -> dict:
    """Feedback that teaches the new intents by ``learn_many`` (SGD), then accuracy on the old test set."""
    out = {"old_accuracy_before": _r(_accuracy(model, texts, labels))}
    stream_texts, stream_labels = [], []
    queries, answers = [], []
    for name, data in new_intents().items():
        stream_texts += data["support"]
        stream_labels += [name] * len(data["support"])
        queries += data["query"]
        answers += [name] * len(data["query"])
    for ewc in (False, True):
        trial = copy.deepcopy(model)
        for _ in range(passes):
            trial.learn_many(stream_texts, stream_labels, ewc=ewc)
        key = "with_ewc" if ewc else "without_ewc"
        old = _accuracy(trial, texts, labels)
        out[key] = {
            "old_accuracy_after": _r(old),
            "forgetting": _r(out["old_accuracy_before"] - old),
            "new_intent_accuracy": _r(_accuracy(trial, queries, answers)),
        }
    out["feedback_examples"] = len(stream_texts) * passes
    out["ewc_lambda"] = model.config.ewc_lambda
    return out


def _quantization(model: IntentClassifier, texts: list[str], labels: list[str]) -> dict:
    quantized = model.quantized()
    sample = texts[:1000]
    float_latency = _latency_ms(model, sample)
    int8_latency = _latency_ms(quantized, sample)
    return {
        "float_accuracy": _r(_accuracy(model, texts, labels)),
        "int8_accuracy": _r(_accuracy(quantized, texts, labels)),
        "float_latency_ms": float_latency,
        "int8_latency_ms": int8_latency,
        "speedup_p50": _r(float_latency["p50"] / max(int8_latency["p50"], 1e-9)),
    }


def evaluate_dst(artifact_dir: Path, seed: int = 0, dialogues: int = 500) -> dict:
    """Joint goal accuracy on dialogues generated from held-out templates whose values are all placeholders (so
    the true state is known), with predicted and with gold intents; also on dialogues from all held-out templates."""
    torch.set_num_threads(1)
    data = MultiWOZ.load()
    split = split_templates(data.templates, seed=seed)
    pipeline = ChatPipeline.load(artifact_dir)
    clean = clean_templates(split.test, value_lexicon(data))
    result: dict = {"dialogues": dialogues}
    for name, templates in (("clean", clean), ("all", split.test)):
        test = generate(data, templates, dialogues, seed=seed + 100)
        gold, with_predicted, with_gold = [], [], []
        for dialogue in test:
            state_p, state_g = empty_state(), empty_state()
            for turn in dialogue.turns:
                state_p = pipeline.process(state_p, turn.text).state
                state_g = pipeline.tracker.update(state_g, turn.text, turn.intent)
                gold.append(turn.state)
                with_predicted.append(state_p["slots"])
                with_gold.append(state_g["slots"])
        suffix = "" if name == "clean" else "_all_templates"
        result[f"joint_goal_accuracy{suffix}"] = _r(joint_goal_accuracy(with_predicted, gold))
        result[f"joint_goal_accuracy_gold_intents{suffix}"] = _r(joint_goal_accuracy(with_gold, gold))
        result[f"turns{suffix}"] = len(gold)
    result["clean_test_templates"] = sum(len(g) for g in clean.values())
    result["all_test_templates"] = sum(len(g) for g in split.test.values())
    return result


def evaluate_knowledge(artifact_dir: Path, link_prediction: bool = True) -> dict:
    """Hits@3 on held-out FAQ paraphrases (domain in the state, intent predicted), with the trained graph weight
    and with the GNN's link-probability prior switched off; link prediction benchmarks."""
    torch.set_num_threads(1)
    pipeline = ChatPipeline.load(artifact_dir)
    retriever = pipeline.knowledge
    trained_weight = retriever.graph_weight
    hits = {"gnn": 0, "text": 0}
    total = 0
    for entry in load_faq():
        for question in entry["held_out"]:
            state = {"domain": entry["domain"], "active_intent": None, "slots": {}, "turn_count": 1}
            intents = pipeline.intent.predict(question).intents
            for name, weight in (("gnn", trained_weight), ("text", 0.0)):
                retriever.graph_weight = weight
                top = [h.node_id for h in retriever.retrieve(question, state, intents, k=3)]
                hits[name] += entry["id"] in top
            total += 1
    retriever.graph_weight = trained_weight
    result: dict = {
        "held_out_questions": total,
        "hits_at_3": _r(hits["gnn"] / total),
        "hits_at_3_without_gnn": _r(hits["text"] / total),
        "gnn_weight": trained_weight,
        "document_weight": retriever.document_weight,
    }
    if link_prediction:
        result["link_prediction"] = link_prediction_benchmarks()
    return result


def link_prediction_benchmarks(config: GNNConfig | None = None) -> dict:
    """The same R-GCN + ComplEx code on Nations and Kinships (filtered, both directions), beside published numbers."""
    config = config or GNNConfig(epochs=200)
    out = {}
    for name in kg_benchmarks.NAMES:
        splits = kg_benchmarks.load(name)
        nodes: dict[str, int] = {}
        relations: dict[str, int] = {}
        ids = {k: index_triples(v, nodes, relations) for k, v in splits.items()}
        start = time.perf_counter()
        model = train_link_predictor(len(nodes), len(relations), ids["train"], config)
        known = ids["train"] + ids["valid"] + ids["test"]
        out[name] = {
            "ours_rgcn_complex": evaluate_link_prediction(model, ids["test"], known),
            "published": PUBLISHED[name],
            "train_seconds": _r(time.perf_counter() - start),
            "entities": len(nodes),
            "relations": len(relations),
        }
    return out


def latency_summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": _r(statistics.median(ordered)),
        "p99": _r(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]),
    }
