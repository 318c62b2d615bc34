"""adapters of bis-verifier."""
