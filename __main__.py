"""``python -m streamsense`` runs the CLI."""

from streamsense.cli.main import main

main()
