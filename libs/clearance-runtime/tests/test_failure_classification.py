"""Which failures are waited out (infrastructure) and which dead-letter (handler bugs)."""

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError
from clearance_runtime.consumer import is_transient_error
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
        ConnectionRefusedError(),
        KafkaConnectionError(),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.CannotConnectNowError("starting up"),
        asyncpg.exceptions.ConnectionDoesNotExistError("closed"),
        _wrapped(ConnectionResetError()),
        DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
    ],
)
def test_transient_errors_are_retried_not_dead_lettered(error: BaseException) -> None:
    assert is_transient_error(error)


@pytest.mark.parametrize(
    "error",
    [
        KeyError("bill_of_entry"),
        ValueError("bad date"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        DBAPIError("INSERT", {}, Exception("check violation")),
    ],
)
def test_handler_errors_are_not_transient(error: BaseException) -> None:
    assert not is_transient_error(error)
