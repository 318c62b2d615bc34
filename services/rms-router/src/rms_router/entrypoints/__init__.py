"""entrypoints of rms-router."""
