"""Local provisioner: real Kafka (KRaft), PostgreSQL and a trace viewer, no Docker."""
