"""service layer of bis-verifier."""
