"""Use cases: one per module, returning data; the CLI prints."""
