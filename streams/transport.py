"""Faust's aiokafka transport, with the stream partitions' exact consumer and spaced metadata retries."""

from aiokafka import AIOKafkaProducer
from faust.transport.drivers import aiokafka as faust_aiokafka

from streamsense.streams.consumer import Consumer
from streamsense.streams.metadata_backoff import space_metadata_updates


class Producer(faust_aiokafka.Producer):
    """Faust's producer, whose client waits between failed metadata updates (``streams/metadata_backoff.py``)."""

    def _new_producer(self, transactional_id: str | None = None) -> AIOKafkaProducer:
        producer = super()._new_producer(transactional_id)
        space_metadata_updates(producer.client, self.app.metadata_retry_max_s)
        return producer


class Transport(faust_aiokafka.Transport):
    """The aiokafka transport, with the consumer and producer above."""

    Consumer = Consumer
    Producer = Producer
