"""Sensor failure warnings end to end, on the real broker and node (needs `streamsense train sensors`)."""

import uuid
from datetime import timedelta

import pytest

from streamsense.cli.sensors import artifact_path
from streamsense.datasets.degradation import simulate
from streamsense.streams.topics import SENSOR_READINGS

pytestmark = pytest.mark.integration
INDEX = "streamsense-decisions-sensors"


@pytest.fixture(scope="module")
def trained() -> None:
    if not artifact_path("degradation").exists():
        pytest.fail("no sensor model: `make test` trains it (streamsense train sensors --if-missing)")


def test_failing_unit_is_warned_ahead_of_failure_and_healthy_unit_is_not(trained, start_worker, producer, es, wait_for):
    fleet = simulate(n_units=6, seed=11, days=2.0, healthy_share=0.5, prefix=f"it{uuid.uuid4().hex[:8]}")
    failing = next(u for u in range(fleet.n_units) if fleet.failure_time(u) is not None)
    healthy = next(u for u in range(fleet.n_units) if fleet.failure_time(u) is None)
    chosen = {fleet.unit_ids[failing], fleet.unit_ids[healthy]}
    readings = [r for r in fleet.readings() if r.device_id in chosen]
    start_worker("sensors")
    for reading in readings:
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
