"""service layer of warehouse-seal."""
