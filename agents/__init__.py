"""One thin Faust agent module per stream: decode, call models, decide, send and log."""
