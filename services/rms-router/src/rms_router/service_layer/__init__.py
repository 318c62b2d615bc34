"""service layer of rms-router."""
