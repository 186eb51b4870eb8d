"""Which failures are the world's and which are the work's.

A sync that fails because Jira, AWS or the database could not answer right now (a 429, a 5xx, a timeout, a
dropped connection, throttling, a lock or claim another sync holds) will pass on a later try: it must never use
up a hint's attempts, whatever its length. Anything else (Jira refusing a field, a finding Security Hub rejects,
a bug) is the work's own failure: retried a few times, then dead-lettered with its reason for a person to read.
"""

from __future__ import annotations

import requests
import sqlalchemy.exc
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from hubsync.adapters.jira.transport import JiraError
from hubsync.domain.link import StaleLink
from hubsync.domain.sync_locks import SyncLockLost, SyncLockTimeout

# AWS error codes that say "not now" rather than "not this" (botocore's own retry lists, and Security Hub's
# per-finding codes that pass on another try).
TRANSIENT_AWS_CODES = frozenset({
    "ConcurrentUpdateError",
    "InternalException",
    "InternalFailure",
    "InternalServerError",
    "LimitExceededException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestTimeout",
    "RequestTimeoutException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
})
TRANSIENT_HTTP_STATUSES = frozenset({408, 409, 423, 425, 429})
# What the database layer raises when the database does not answer: no connection, a connection lost, a pool
# exhausted (and the driver's own errors, should one escape SQLAlchemy's wrapping).
DATABASE_OUTAGES: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    sqlalchemy.exc.DisconnectionError,
)
try:
    import psycopg

    DATABASE_OUTAGES += (psycopg.OperationalError, psycopg.InterfaceError)
except ImportError:  # pragma: no cover - SQLite-only installs
    pass


def transient_status(status: int) -> bool:
    """An HTTP answer worth sending again later: timeouts, conflicts, rate limits and every 5xx."""
    return status >= 500 or status in TRANSIENT_HTTP_STATUSES


def transient_aws_code(code: str) -> bool:
    return code in TRANSIENT_AWS_CODES


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached now, rather than that a statement is wrong."""
    if isinstance(error, DATABASE_OUTAGES):
        return True
    return isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated


_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    StaleLink,
    SyncLockLost,
    SyncLockTimeout,
    ConnectionError,
    TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """True when `error`, or an error it was raised from, says a side could not answer now, so the same work may
    pass on a later try."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _says_not_now(current):
            return True
        current = current.__cause__
    return False


def _says_not_now(error: BaseException) -> bool:
    if isinstance(error, JiraError):
        return transient_status(error.status)
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return transient_aws_code(code) or transient_status(int(status))
    return isinstance(error, _TRANSIENT_TYPES) or database_unavailable(error)
