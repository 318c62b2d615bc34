"""domain of bis-verifier."""
