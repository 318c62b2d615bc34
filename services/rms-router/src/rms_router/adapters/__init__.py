"""adapters of rms-router."""
