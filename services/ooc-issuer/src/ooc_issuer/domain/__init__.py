"""domain of ooc-issuer."""
