"""bis-verifier: checks BIS registrations and licences declared on a Bill of Entry."""
