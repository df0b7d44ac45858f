"""Sensor failure warnings end to end, on the real broker and node (needs `streamsense train sensors`)."""

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from streamsense.cli.sensors import artifact_path
from streamsense.datasets.degradation import simulate
from streamsense.streams.topics import SENSOR_READINGS, STREAMS, dlq_topic

pytestmark = pytest.mark.integration
INDEX = "streamsense-decisions-sensors"


@pytest.fixture(scope="module")
def trained() -> None:
    if not artifact_path("degradation").exists():
        pytest.fail("no sensor model: `make test` trains it (streamsense train sensors --if-missing)")


def test_failing_unit_is_warned_ahead_of_failure_and_healthy_unit_is_not_and_unusable_readings_are_dead_lettered(
    trained, start_worker, producer, es, wait_for, read_topic
):
    run = f"it{uuid.uuid4().hex[:8]}"
    fleet = simulate(n_units=6, seed=11, days=2.0, healthy_share=0.5, prefix=run)
    failing = next(u for u in range(fleet.n_units) if fleet.failure_time(u) is not None)
    healthy = next(u for u in range(fleet.n_units) if fleet.failure_time(u) is None)
    chosen = {fleet.unit_ids[failing], fleet.unit_ids[healthy]}
    readings = [r for r in fleet.readings() if r.device_id in chosen]
    start_worker("sensors")
    changes = {
        "no-channel": {"values": {"humidity": 4.0}},
        "new-regime": {"operating_regime": 63},
        "ahead": {"event_time": datetime.now(UTC) + timedelta(minutes=30)},
    }
    unusable = {
        f"{run}-{name}": readings[0].model_copy(update={"device_id": f"{run}-{name}", **change})
        for name, change in changes.items()
    }
    for reading in [*readings[:10], *unusable.values(), *readings[10:]]:
        producer.send(SENSOR_READINGS, reading.device_id, reading)
    producer.flush()

    def logged() -> int:
        es.indices.refresh(index=INDEX)
        return es.count(index=INDEX, query={"terms": {"key": sorted(chosen)}})["count"]

    # readings arriving after their unit failed may be judged late or dropped, so wait for the bulk of them
    wait_for(lambda: logged() >= len(readings) * 0.95, 300, "the readings to be scored", interval_s=2)

    def warnings(device: str) -> list[dict]:
        hits = es.search(
            index=INDEX,
            size=100,
            sort=[{"event_time": "asc"}],
            query={"bool": {"filter": [{"term": {"key": device}}, {"term": {"label": "failure_warning"}}]}},
        )["hits"]["hits"]
        return [h["_source"] for h in hits]

    first = warnings(fleet.unit_ids[failing])
    assert first, "the failing unit was never warned"
    deadline = fleet.failure_time(failing) - timedelta(minutes=15)
    assert first[0]["event_time"] <= deadline.isoformat().replace("+00:00", "Z")
    assert warnings(fleet.unit_ids[healthy]) == []

    dead = read_topic(dlq_topic(SENSOR_READINGS))
    letters: dict[str, dict] = {}

    def all_dead_lettered() -> bool:
        letters.update({m.key().decode(): dict(m.headers()) for m in dead.poll(1.0) if m.key()})
        return set(unusable) <= set(letters)

    wait_for(all_dead_lettered, 60, "the unusable readings on the dead-letter topic")
    assert {letters[key]["dlq.error.kind"] for key in unusable} == {b"unusable"}
    assert b"humidity" in letters[f"{run}-no-channel"]["dlq.error.reason"]
    assert b"operating_regime 63" in letters[f"{run}-new-regime"]["dlq.error.reason"]
    assert b"s after it was received" in letters[f"{run}-ahead"]["dlq.error.reason"]


def test_a_device_silent_for_longer_than_the_idle_time_leaves_the_table_and_its_changelog_and_starts_over_cold(
    trained, start_worker, producer, es, count_by_id, read_topic, wait_for, key_per_partition
):
    run = f"idle{uuid.uuid4().hex[:8]}"
    fleet = simulate(n_units=1, seed=3, days=0.05, healthy_share=1.0, missing_share=0.0, prefix=run)
    device = fleet.unit_ids[0]
    # the partition must move past the idle time plus the margin for readings dated ahead of the clock
    idle = {"STREAMSENSE_SENSOR_IDLE_S": "600", "STREAMSENSE_MAX_EVENT_AHEAD_S": "600"}
    start_worker("sensors", extra_env={**idle, "STREAMSENSE_SENSOR_EXPIRY_CHECK_S": "1"})
    changelog = read_topic(f"{STREAMS['sensors'].app_id}-sensor-device-windows-changelog")

    def scorers(readings: list) -> list[str]:
        for reading in readings:
            producer.send(SENSOR_READINGS, reading.device_id, reading)
        producer.flush()
        ids = [r.event_id for r in readings]
        wait_for(lambda: len(count_by_id(INDEX, ids)) == len(ids), 120, f"{len(ids)} decisions")
        return [es.get(index=INDEX, id=i)["_source"]["features"]["scorer"] for i in ids]

    own = list(fleet.readings())[:40]
    assert scorers(own)[-1] == "lstm", "the device's window is warm"
    # a reading of another device on every partition, an hour after the device's last, past the idle time
    later = own[-1].event_time + timedelta(hours=1)
    others = [
        own[-1].model_copy(update={"event_id": key, "device_id": key, "event_time": later})
        for key in key_per_partition(f"{run}-o")
    ]
    scorers(others)

    def tombstoned() -> bool:
        return any(m.value() is None and orjson.loads(m.key()) == device for m in changelog.poll(1.0) if m.key())

    wait_for(tombstoned, 60, f"a tombstone for {device} on the device windows' changelog")
    back = own[-1].model_copy(update={"event_id": f"{run}-back", "event_time": later})
    assert scorers([back]) == ["hst"], "the device starts over, cold"
