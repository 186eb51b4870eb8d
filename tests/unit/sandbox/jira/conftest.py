"""Fixtures shared by the Connect platform tests: one set of servers per module, a fresh site per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hubsync_sandbox.jira.model import User
from tests.unit.sandbox.jira.connect_app import JiraSite, Servers


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    running = Servers()
    yield running
    running.stop()


@pytest.fixture
def site(servers: Servers) -> Iterator[JiraSite]:
    fresh = JiraSite(servers)
    yield fresh
    fresh.deliveries()  # nothing may still be on its way to the next test's app


@pytest.fixture
def alice(site: JiraSite) -> User:
    user = site.world.user_by_name("alice")
    assert user is not None
    return user
