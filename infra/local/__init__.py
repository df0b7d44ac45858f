"""Local Kafka and Elasticsearch from Maven Central artifacts, no Docker."""
