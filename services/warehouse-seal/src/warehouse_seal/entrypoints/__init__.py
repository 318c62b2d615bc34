"""entrypoints of warehouse-seal."""
