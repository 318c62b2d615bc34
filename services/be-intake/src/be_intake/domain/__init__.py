"""domain of be-intake."""
