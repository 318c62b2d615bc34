"""service layer of be-intake."""
