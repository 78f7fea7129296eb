"""Click commands only: parse flags, call the core, map results to exit codes."""
