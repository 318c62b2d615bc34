"""adapters of warehouse-seal."""
