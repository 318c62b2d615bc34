"""Alembic environment: the shared runtime migrates on the connection it provides."""

from clearance_runtime.migrations import run_env

run_env()
