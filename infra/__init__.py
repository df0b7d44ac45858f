"""How it runs: the local Kafka/Elasticsearch launcher, deployment manifests, dashboards."""
