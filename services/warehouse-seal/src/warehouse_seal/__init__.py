"""warehouse-seal: reconciles RFID one-time-lock seals of warehoused goods."""
