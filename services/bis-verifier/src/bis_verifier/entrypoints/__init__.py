"""entrypoints of bis-verifier."""
