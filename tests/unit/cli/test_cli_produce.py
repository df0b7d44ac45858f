import pytest
from typer.testing import CliRunner

from streamsense.cli import produce
from streamsense.cli.main import app
from streamsense.settings import get_settings


def test_feedback_with_an_empty_text_or_an_overlong_intent_exits_2_with_the_reason_before_any_broker_is_asked() -> None:
    runner = CliRunner()
    empty = runner.invoke(app, ["produce", "feedback", "", "Hotel-Request"])
    assert empty.exit_code == 2
    assert "not a valid feedback" in empty.output and "text" in empty.output
    long_name = runner.invoke(app, ["produce", "feedback", "where can I park ?", "x" * 65])
    assert long_name.exit_code == 2 and "intent" in long_name.output


def test_a_new_intent_with_too_few_examples_exits_2_with_the_reason() -> None:
    result = CliRunner().invoke(app, ["produce", "intent", "Hotel-Pets", "--example", "can my dog stay ?"])
    assert result.exit_code == 2
    assert "not a valid new intent" in result.output and "examples" in result.output


def test_removing_an_intent_with_examples_exits_2_before_any_broker_is_asked() -> None:
    result = CliRunner().invoke(app, ["produce", "intent", "Hotel-Pets", "--remove", "--example", "can my dog stay ?"])
    assert result.exit_code == 2
    assert "--remove takes no examples" in result.output


def test_a_new_intent_too_large_for_the_workers_exits_2_with_the_limit_before_any_broker_is_asked(tmp_path) -> None:
    """Valid by the schema (50 examples of up to 4,000 characters), it was sent, and every worker dead-lettered it."""
    examples = tmp_path / "examples.txt"
    examples.write_text("\n".join(f"can my dog number {n} stay with me {'please ' * 400}" for n in range(30)))
    result = CliRunner().invoke(app, ["produce", "intent", "Hotel-Pets", "--examples-file", str(examples)])
    assert result.exit_code == 2
    assert "workers refuse events over 65,536" in result.output and "STREAMSENSE_MAX_EVENT_BYTES" in result.output


def test_adding_or_removing_a_trained_intent_exits_2_with_the_reason_every_worker_would_give(
    tmp_path, monkeypatch
) -> None:
    """Sent, each was dead-lettered by every worker while the CLI said "sent"."""
    chat = tmp_path / "artifacts" / "chat"
    chat.mkdir(parents=True)
    (chat / "intent.json").write_text('{"labels": ["Hotel-Inform", "Hotel-Request"]}')
    monkeypatch.setenv("STREAMSENSE_CACHE_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        examples = [arg for n in range(5) for arg in ("--example", f"a hotel in the north please {n}")]
        added = CliRunner().invoke(app, ["produce", "intent", "hotel-inform", *examples])
        removed = CliRunner().invoke(app, ["produce", "intent", "Hotel-Request", "--remove"])
        empty = CliRunner().invoke(app, ["produce", "intent", "Hotel-Pets"])
    finally:
        get_settings.cache_clear()
    assert added.exit_code == 2 and "trained intent" in added.output
    assert removed.exit_code == 2 and "only those can be removed" in removed.output
    assert empty.exit_code == 2 and "--examples-file" in empty.output


@pytest.fixture
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a command gets as far as Kafka."""

    def refuse(*args: object) -> None:
        raise AssertionError("the command reached Kafka")

    monkeypatch.setattr(produce, "ensure_topics", refuse)
    monkeypatch.setattr(produce, "EventProducer", refuse)


@pytest.mark.parametrize(
    "args",
    [
        ["payments", "--count", "0"],
        ["payments", "--count", "-3"],
        ["payments", "--days", "0"],
        ["payments", "--days", "-2"],
        ["payments", "--seed", "-1"],
        ["sensors", "--count", "-3"],
        ["sensors", "--units", "0"],
        ["sensors", "--units", "-4"],
        ["sensors", "--days", "0"],
        ["sensors", "--days", "-1"],
        ["sensors", "--days", "nan"],
        ["sensors", "--seed", "-1"],
        ["chat", "--count", "0"],
        ["chat", "--seed", "-1"],
    ],
)
def test_produce_refuses_counts_units_days_and_seeds_out_of_range_with_exit_2_before_any_broker_is_asked(
    no_broker: None, args: list[str]
) -> None:
    result = CliRunner().invoke(app, ["produce", *args])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{args[1]}'" in result.output


def test_blank_examples_of_a_new_intent_do_not_count_toward_the_five_needed(no_broker: None) -> None:
    blanks = [arg for text in ("   ", "", " \t ", "  ", " ") for arg in ("--example", text)]
    only_blanks = CliRunner().invoke(app, ["produce", "intent", "Hotel-Pets", *blanks])
    assert only_blanks.exit_code == 2 and "give 5 to 50 examples" in only_blanks.output
    four = [arg for n in range(4) for arg in ("--example", f"can my dog number {n} stay ?")]
    four_and_a_blank = CliRunner().invoke(app, ["produce", "intent", "Hotel-Pets", *four, "--example", "   "])
    assert four_and_a_blank.exit_code == 2
    assert "not a valid new intent" in four_and_a_blank.output and "at least 5" in four_and_a_blank.output
