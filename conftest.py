"""Fixtures shared by every test folder: real Kafka, PostgreSQL and Zipkin."""

pytest_plugins = ["clearance_local.pytest_plugin"]
