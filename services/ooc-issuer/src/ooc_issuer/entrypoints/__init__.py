"""entrypoints of ooc-issuer."""
