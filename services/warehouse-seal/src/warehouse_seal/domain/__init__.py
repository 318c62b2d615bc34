"""domain of warehouse-seal."""
