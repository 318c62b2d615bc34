"""adapters of be-intake."""
