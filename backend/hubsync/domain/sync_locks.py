"""What a sync holding its findings' locks may ask of them; the store implements the locks."""

from __future__ import annotations

from collections.abc import Callable


class SyncLockTimeout(Exception):
    """Another sync held a finding for longer than the timeout; the caller retries later."""


class SyncLockLost(Exception):
    """The locks' database session ended (PostgreSQL restarted, the connection dropped): another sync may hold
    these findings now, so nothing more may be sent on their behalf; the caller retries later."""


class HeldLocks:
    """The locks a batch holds. `verify()` before a step that must not run twice (Jira's create): it raises
    `SyncLockLost` when the session that holds them is gone."""

    def __init__(self, verify: Callable[[], None] | None = None) -> None:
        self._verify = verify

    def verify(self) -> None:
        if self._verify is not None:
            self._verify()
