"""How data moves: Faust app, topics, codecs, dead-letter routing, the Elasticsearch decision log."""
