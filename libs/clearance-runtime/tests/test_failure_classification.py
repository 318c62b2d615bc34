"""Which failures are retried at once (the database rolled back) and which are judged
by asking the database whether it is there (an outage waits, an event's failure counts)."""

import asyncpg
import pytest
from clearance_runtime.consumer import is_rollback
from sqlalchemy.exc import DBAPIError

pytestmark = pytest.mark.unit


def _wrapped(cause: BaseException) -> Exception:
    try:
        raise RuntimeError("while handling") from cause
    except RuntimeError as error:
        return error


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        _wrapped(asyncpg.exceptions.DeadlockDetectedError("deadlock detected")),
        DBAPIError("UPDATE", {}, asyncpg.exceptions.SerializationError("serialize")),
    ],
)
def test_deadlocks_and_serialization_failures_are_retried_at_once(error: BaseException) -> None:
    assert is_rollback(error)


@pytest.mark.parametrize(
    "error",
    [
        KeyError("bill_of_entry"),
        ValueError("bad date"),
        FileNotFoundError("/no/such/register.csv"),  # an OSError that is no outage
        ConnectionRefusedError("a third party refused"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        DBAPIError("INSERT", {}, Exception("check violation")),
    ],
)
def test_other_errors_are_not_rollbacks(error: BaseException) -> None:
    """Whether these are an outage is asked of the database, not read from their type."""
    assert not is_rollback(error)
