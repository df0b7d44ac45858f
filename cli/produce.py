"""``streamsense produce``: publish realistic traffic to the input topics."""

import itertools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from pydantic import BaseModel, ValidationError
from tqdm import tqdm

from streamsense.cli.checks import bounded
from streamsense.models.chat.intent_ledger import new_name_refusal, removal_refusal
from streamsense.schemas.chat import ChatFeedback, ChatMessage, NewIntent
from streamsense.settings import get_settings
from streamsense.streams.admin import ensure_topics
from streamsense.streams.producer import EventProducer, EventTooLarge, encoded_within, paced
from streamsense.streams.topics import (
    CHAT_FEEDBACK,
    CHAT_INTENTS,
    CHAT_MESSAGES,
    PAYMENTS_LABELS,
    PAYMENTS_TRANSACTIONS,
    SENSOR_READINGS,
)

produce_app = typer.Typer(help="Publish realistic events to Kafka (rate-limited, with a progress bar).")


RATE = {"min": 0.0}
"""Rates are events per second, 0 for as fast as possible: a negative one is refused."""
COUNT = {"min": 1}
"""Counts of events and simulated units are whole and at least one."""
SEED = {"min": 0}
"""The simulators' random generators take non-negative seeds only."""


def _seed(seed: int | None) -> int:
    """The seed given, else a fresh one (said, so that the run can be repeated): the same seed sends the same event
    ids again, which overwrite their decisions in Elasticsearch instead of adding to them."""
    if seed is None:
        seed = uuid.uuid4().int % 1_000_000
        typer.echo(f"seed {seed}")
    return seed


def _publish(events: Iterator[tuple[str, str, BaseModel]], count: int, rate: float | None) -> None:
    settings = get_settings()
    ensure_topics(settings)
    producer = EventProducer(settings)
    sent = 0
    for topic, key, event in tqdm(paced(itertools.islice(events, count), rate), total=count, unit="ev"):
        producer.send(topic, key, event)
        sent += 1
    producer.flush()
    short = f" (the simulation held no more; simulate more days or units for {count})" if sent < count else ""
    typer.echo(f"published {sent} events to {settings.bootstrap_servers}{short}")


@produce_app.command()
def payments(
    rate: float = typer.Option(500.0, help="events per second (0 = as fast as possible)", **RATE),
    count: int = typer.Option(
        1000,
        **COUNT,
        help="how many events: transactions, and their labels a week of simulated time later (with the defaults the"
        " first label comes after about 7,000 transactions, so a smaller count sends none)",
    ),
    seed: int = typer.Option(None, help="simulator seed (default: a fresh one, printed)", **SEED),
    days: int = typer.Option(30, min=1, help="simulated days of payments to draw from"),
) -> None:
    """Transactions from the fraud simulator, with their labels interleaved at their (delayed) arrival time. Events
    are dated in simulated time (from 2026-04-01), which drift windows and Kibana read."""
    _publish(payments_traffic(_seed(seed), 2_000, 4_000, days), count, rate or None)


@produce_app.command()
def sensors(
    rate: float = typer.Option(2000.0, help="readings per second (0 = as fast as possible)", **RATE),
    count: int = typer.Option(10_000, help="how many readings", **COUNT),
    units: int = typer.Option(20, help="simulated units (devices); some run to failure, some stay healthy", **COUNT),
    seed: int = typer.Option(None, help="simulator seed (default: a fresh one, printed)", **SEED),
    days: float = typer.Option(
        3.0, help="simulated days per unit (one reading per unit per minute)", callback=bounded(0, low_open=True)
    ),
) -> None:
    """Readings from the run-to-failure simulator (C-MAPSS style), in event-time order across units, dated in
    simulated time (from 2026-01-01)."""
    _publish(sensor_traffic(_seed(seed), units, days), count, rate or None)


def payments_traffic(seed: int, customers: int, terminals: int, days: int) -> Iterator[tuple[str, str, BaseModel]]:
    """Simulated transactions and their labels, in the order they would arrive on the topics."""
    from streamsense.datasets.fraud_simulator import SimulatorConfig, iter_timeline, simulate
    from streamsense.schemas.payments import Transaction

    sim = simulate(SimulatorConfig(n_customers=customers, n_terminals=terminals, n_days=days, seed=seed))
    for event in iter_timeline(sim):
        yield (PAYMENTS_TRANSACTIONS if isinstance(event, Transaction) else PAYMENTS_LABELS, event.account_id, event)


def sensor_traffic(seed: int, units: int, days: float, prefix: str = "unit") -> Iterator[tuple[str, str, BaseModel]]:
    """Simulated readings of a fleet of units, in event-time order."""
    from streamsense.datasets.degradation import simulate

    fleet = simulate(n_units=units, seed=seed, days=days, prefix=prefix)
    for reading in fleet.readings():
        yield SENSOR_READINGS, reading.device_id, reading


def chat_traffic(count: int, seed: int) -> Iterator[tuple[str, str, ChatMessage]]:
    """Multi-turn conversations generated from MultiWOZ goals with real user utterances, turn by turn."""
    from streamsense.datasets.dialogues import generate
    from streamsense.datasets.multiwoz import MultiWOZ

    data = MultiWOZ.load()
    start = datetime(2026, 4, 1, tzinfo=UTC)
    sent = 0
    for n, dialogue in enumerate(generate(data, data.templates, max(1, count // 4), seed=seed)):
        for turn_no, turn in enumerate(dialogue.turns):
            if sent >= count:
                return
            conversation = f"conv-{seed}-{n}"
            yield (
                CHAT_MESSAGES,
                conversation,
                ChatMessage(
                    event_id=f"{conversation}-{turn_no}",
                    event_time=start + timedelta(minutes=n, seconds=20 * turn_no),
                    conversation_id=conversation,
                    text=turn.text,
                ),
            )
            sent += 1


@produce_app.command()
def chat(
    rate: float = typer.Option(50.0, help="messages per second (0 = as fast as possible)", **RATE),
    count: int = typer.Option(500, help="how many messages", **COUNT),
    seed: int = typer.Option(None, help="dialogue generator seed (default: a fresh one, printed)", **SEED),
) -> None:
    """Conversations from the MultiWOZ dialogue generator (needs `streamsense data multiwoz` once), dated in
    simulated time (from 2026-04-01)."""
    _publish(chat_traffic(count, _seed(seed)), count, rate or None)


@produce_app.command()
def intent(
    name: str = typer.Argument(help="the new intent's name, e.g. Restaurant-Allergy"),
    example: list[str] = typer.Option([], help="an example message (repeat the option)"),
    examples_file: Path | None = typer.Option(
        None, help="a file of example messages, one per line", exists=True, dir_okay=False
    ),
    remove: bool = typer.Option(False, "--remove", help="remove the intent added under NAME (no examples)"),
) -> None:
    """Add an intent to the running chat workers from 5 to 50 examples (no retraining); sending the same name again
    replaces its examples, and --remove removes it (a tombstone: the name with no value). A trained intent's name
    is refused here, as every worker would refuse it."""
    from streamsense.models.chat.training import trained_intents

    # the workers check against the same; where the chat models are not trained here, they alone judge the name
    trained = trained_intents(get_settings().artifact_dir) or []
    if remove:
        if example or examples_file is not None:
            typer.echo("error: --remove takes no examples", err=True)
            raise typer.Exit(2)
        if reason := removal_refusal(name, trained):
            typer.echo(f"error: {reason}", err=True)
            raise typer.Exit(2)
        _send_one(CHAT_INTENTS, name, None)
        typer.echo(f"sent the removal of intent {name} to {CHAT_INTENTS}")
        return
    examples = [text.strip() for text in example if text.strip()]  # a blank example is none, as in a file
    if examples_file is not None:
        examples += [line.strip() for line in examples_file.read_text().splitlines() if line.strip()]
    if not examples:
        typer.echo("error: give 5 to 50 examples with --example (repeated) or --examples-file, or --remove", err=True)
        raise typer.Exit(2)
    if reason := new_name_refusal(name, trained):
        typer.echo(f"error: {reason}", err=True)
        raise typer.Exit(2)
    event = _valid(
        "new intent",
        lambda: NewIntent(
            event_id=f"intent-{uuid.uuid4().hex}", event_time=datetime.now(UTC), intent=name, examples=examples
        ),
    )
    _send_one(CHAT_INTENTS, name, event)
    typer.echo(f"sent intent {name} with {len(examples)} examples to {CHAT_INTENTS}")


@produce_app.command()
def feedback(
    text: str = typer.Argument(help="the message as the customer wrote it"),
    intent: str = typer.Argument(help="its right intent: a trained one or one added with `produce intent`"),
    conversation: str = typer.Option("feedback", help="the conversation the message came from (the event's key)"),
) -> None:
    """Teach every running chat worker a message's right intent (online, with EWC); workers started later learn it
    too, since the feedback topic is kept. An intent no worker holds (neither trained nor added on chat.intents, in
    this case) is refused here, as every worker would refuse the feedback."""
    event = _valid(
        "feedback",
        lambda: ChatFeedback(
            event_id=f"feedback-{uuid.uuid4().hex}",
            event_time=datetime.now(UTC),
            conversation_id=conversation,
            text=text,
            intent=intent,
        ),
    )
    if reason := _unknown_intent(intent):
        typer.echo(f"error: {reason}", err=True)
        raise typer.Exit(2)
    _send_one(CHAT_FEEDBACK, conversation, event)
    typer.echo(f"sent feedback {intent} to {CHAT_FEEDBACK}")


def _unknown_intent(name: str) -> str | None:
    """Why no worker would learn feedback for ``name``, from the trained intents and chat.intents read whole as a
    starting worker reads it; None where it would, or where the chat models are not trained here."""
    from streamsense.cli.chat import read_ledger
    from streamsense.models.chat.training import trained_intents

    settings = get_settings()
    trained = trained_intents(settings.artifact_dir)
    if trained is None:
        return None
    ensure_topics(settings)
    ledger = read_ledger(settings, trained, feedback=False)
    if name in ledger.trained or name in ledger.added:
        return None
    spelled = ledger.spelled(name) or next((t for t in trained if t.casefold() == name.casefold()), None)
    hint = f" (did you mean {spelled}?)" if spelled else "; add it with `streamsense produce intent` first"
    return f"no worker holds intent {name}, trained or added, so every worker would refuse this feedback{hint}"


def _valid(what: str, build: Callable[[], BaseModel]) -> BaseModel:
    """The event, or exit 2 with what is wrong in it."""
    try:
        return build()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        typer.echo(f"error: not a valid {what}: {problems}", err=True)
        raise typer.Exit(2) from None


def _send_one(topic: str, key: str, event: BaseModel | None) -> None:
    """One event, or with ``None`` a tombstone (the key with no value: its removal)."""
    settings = get_settings()
    try:
        value = None if event is None else encoded_within(event, settings.max_event_bytes)
    except EventTooLarge as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    ensure_topics(settings)
    producer = EventProducer(settings)
    producer.send_raw(topic, key.encode(), value)
    producer.flush()
