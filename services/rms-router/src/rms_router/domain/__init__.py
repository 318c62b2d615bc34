"""domain of rms-router."""
