"""Data: seeded simulators and loaders for data shipped in the repo or inside registry packages."""
