"""adapters of ooc-issuer."""
