"""entrypoints of be-intake."""
