"""Shared pytest set-up: fixtures for the simulators live in tests/fixtures and are plugged in here."""

import os
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.jira",
    "tests.fixtures.securityhub",
    "tests.fixtures.sandbox",
]


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    """The official contracts (`../shared/specs`), named by HUBSYNC_SPECS_DIR; tests needing them skip without."""
    value = os.environ.get("HUBSYNC_SPECS_DIR")
    if not value:
        pytest.skip("HUBSYNC_SPECS_DIR is not set: the official contracts (OpenAPI, JWT vectors) are unavailable")
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"HUBSYNC_SPECS_DIR={value} is not a directory")
    return path
