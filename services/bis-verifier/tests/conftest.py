"""Fixtures of bis-verifier's tests; the cases and fakes are in `bis_cases.py`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from clearance_runtime.clock import ControllableClock

sys.path.insert(0, str(Path(__file__).parent))

from bis_cases import (
    Cases,
    FakeBisUnitOfWork,
    FakeSamples,
    FakeVerifications,
    FakeWaiting,
)


@pytest.fixture(scope="session")
def cases() -> type[Cases]:
    return Cases


@pytest.fixture
def clock() -> ControllableClock:
    return ControllableClock(datetime.fromisoformat("2025-03-20T10:42:18+05:30"))


@pytest.fixture
def verifications() -> FakeVerifications:
    return FakeVerifications()


@pytest.fixture
def waiting() -> FakeWaiting:
    return FakeWaiting()


@pytest.fixture
def samples() -> FakeSamples:
    return FakeSamples()


@pytest.fixture
def new_uow(
    verifications: FakeVerifications,
    waiting: FakeWaiting,
    samples: FakeSamples,
    clock: ControllableClock,
) -> Callable[[], FakeBisUnitOfWork]:
    return lambda: FakeBisUnitOfWork(verifications, waiting, samples, clock)
