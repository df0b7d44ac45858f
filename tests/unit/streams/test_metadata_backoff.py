import asyncio

from aiokafka.client import AIOKafkaClient

from streamsense.streams.metadata_backoff import FailureBackoff, space_metadata_updates


def test_the_wait_doubles_with_each_failure_up_to_the_cap_and_a_success_ends_it():
    backoff = FailureBackoff(first_s=0.1, max_s=1.0)
    delays = []
    for _ in range(7):
        delays.append(backoff.delay())
        backoff.record(succeeded=False)
    backoff.record(succeeded=True)
    assert delays == [0.0, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert backoff.delay() == 0.0


def test_a_client_that_reaches_no_broker_waits_longer_before_each_metadata_update():
    async def update_three_times() -> tuple[list[bool], int, float]:
        client = AIOKafkaClient(bootstrap_servers="127.0.0.1:1", retry_backoff_ms=50)
        backoff = space_metadata_updates(client, max_s=1.0)
        results = [await client._metadata_update(client.cluster, set()) for _ in range(3)]
        return results, backoff.failures, backoff.delay()

    results, failures, next_delay = asyncio.run(update_three_times())
    assert results == [False, False, False]
    assert (failures, next_delay) == (3, 0.2)
