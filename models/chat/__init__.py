"""Chat models: intents, dialogue state and knowledge retrieval (pure ML, no I/O besides save/load)."""
