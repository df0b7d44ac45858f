from streamsense.streams.topics import (
    CHAT_DECISIONS,
    CHAT_FEEDBACK,
    CHAT_INTENTS,
    DRIFT_REPORTS,
    STREAMS,
    config_for,
    dlq_topic,
)


def test_every_topic_a_worker_consumes_is_dated_by_the_broker_so_a_replay_judges_its_events_as_the_live_worker_did():
    consumed = {t for spec in STREAMS.values() for t in (*spec.inputs, *spec.internal)}
    assert consumed and all(config_for(t)["message.timestamp.type"] == "LogAppendTime" for t in consumed)


def test_only_intents_and_feedback_are_kept_for_ever_and_topics_no_worker_consumes_keep_the_broker_defaults():
    assert {t for t in (CHAT_INTENTS, CHAT_FEEDBACK) if config_for(t)["retention.ms"] == "-1"} == {
        CHAT_INTENTS,
        CHAT_FEEDBACK,
    }
    assert all("retention.ms" not in config_for(t) for spec in STREAMS.values() for t in spec.inputs[:1])
    assert [config_for(t) for t in (CHAT_DECISIONS, dlq_topic(CHAT_INTENTS), DRIFT_REPORTS)] == [{}, {}, {}]
