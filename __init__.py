"""StreamSense: event-driven ML decisions over Kafka, logged to Elasticsearch."""

__version__ = "0.1.0"
