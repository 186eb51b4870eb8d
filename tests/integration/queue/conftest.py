"""Queue fixtures: the store's databases (a fresh SQLite file, a fresh PostgreSQL schema), a tenant on them, and
moto's SQS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hubsync_sandbox.aws import MotoServer, client
from tests.integration.store.conftest import (  # noqa: F401  (fixtures, shared with the store tests)
    clock,
    engine,
    engine_factory,
    postgres_engine_factory,
    secret_box,
    store,
    tenant,
)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def sqs(moto: MotoServer) -> Any:
    return client("sqs", moto.url)
