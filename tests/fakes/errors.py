"""The errors the fakes raise, and the `is_transient` a `SyncContext` built on them takes."""

from __future__ import annotations

from hubsync.domain.link import StaleLink
from hubsync.domain.sync_locks import SyncLockLost, SyncLockTimeout

_NOT_NOW = (StaleLink, SyncLockLost, SyncLockTimeout, ConnectionError, TimeoutError)


class FakeOutage(Exception):
    """A side failing: `transient` says whether it would pass on a later try (a 429, a 503, a timeout) or not (a
    400, a permission refused). `status` is the HTTP status the real side would have answered, if any."""

    def __init__(self, message: str, *, transient: bool = True, status: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status


def fake_is_transient(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, says "not now": a transient `FakeOutage`, or what the real
    `faults.is_transient` counts as such whatever the side (a stale link, lost or busy sync locks, a dropped
    connection, a timeout)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if (isinstance(current, FakeOutage) and current.transient) or isinstance(current, _NOT_NOW):
            return True
        current = current.__cause__
    return False
