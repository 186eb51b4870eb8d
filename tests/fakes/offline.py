"""A pytest plugin for the fast tier (`make test-fast`): while a test runs (setup, call, teardown), the outside world
refuses to be reached: no network connection, no subprocess, no SQLite or other database connection. A test that
tries fails at once, saying so: it belongs to the full run (`make test`), not to FAST_TESTS in the Makefile.

    pytest -p tests.fakes.offline tests/unit/domain
"""

from __future__ import annotations

import os
import socket
import sqlite3
import sqlite3.dbapi2
import subprocess
from collections.abc import Callable, Generator
from typing import Any

import pytest


class NotFastTier(AssertionError):
    """A test of the fast tier reached for the outside world."""


def _refuse(what: str) -> Callable[..., Any]:
    def refuse(*args: object, **kwargs: object) -> Any:
        raise NotFastTier(
            f"the fast tier has no {what}: a test that needs a network, a database, a subprocess or a browser runs "
            "in `make test` only (leave its file out of FAST_TESTS in the Makefile)"
        )

    return refuse


_REFUSED: list[tuple[object, str, str]] = [
    (socket.socket, "connect", "network"),
    (socket.socket, "connect_ex", "network"),
    (socket.socket, "bind", "network"),
    (subprocess.Popen, "__init__", "subprocess"),
    (os, "fork", "subprocess"),
    (os, "posix_spawn", "subprocess"),
    (sqlite3, "connect", "database"),
    (sqlite3.dbapi2, "connect", "database"),
]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    with pytest.MonkeyPatch.context() as patch:
        for target, name, what in _REFUSED:
            if hasattr(target, name):
                patch.setattr(target, name, _refuse(what))
        yield
