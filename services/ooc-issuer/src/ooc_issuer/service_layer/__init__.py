"""service layer of ooc-issuer."""
