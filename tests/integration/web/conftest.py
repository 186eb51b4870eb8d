"""Shared by the web integration tests that run hubsync's app on a real SQLite store and its local queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hubsync.adapters.queue import LocalQueue
from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade

SECRET_KEY = "web-integration-tests-secret-key-0123456789"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    running = Store(create_engine(f"sqlite:///{tmp_path / 'web.sqlite3'}"), SecretBox([SECRET_KEY]))
    upgrade(running.engine)
    yield running
    running.dispose()


@pytest.fixture
def queue(store: Store) -> LocalQueue:
    return LocalQueue(store.engine)
