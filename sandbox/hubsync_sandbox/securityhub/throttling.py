"""Security Hub's documented API rate limits, as token buckets per operation, account and Region.

GetFindings allows 3 requests per second with bursts of 6; BatchImportFindings, BatchUpdateFindings and every
other operation 10 per second with bursts of 30. Off by default; the clock is injectable so tests need no sleeps.

A throttled request is answered 429 with the exception the operation declares in botocore's model:
LimitExceededException for most, TooManyRequestsException for the few that declare none (DescribeActionTargets,
DeleteActionTarget), ThrottlingException for the V2 operations. Callers in the field also see
TooManyRequestsException from GetFindings, from the front door; `error_code` forces one name for every
operation to exercise that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

# No V2 rate is published; GetFindingsV2 is budgeted like GetFindings.
RATES: dict[str, tuple[float, int]] = {"GetFindings": (3.0, 6), "GetFindingsV2": (3.0, 6)}
DEFAULT_RATE = (10.0, 30)
UNDECLARED_THROTTLE = frozenset({"DescribeActionTargets", "DeleteActionTarget"})
# these declare ThrottlingException
V2_OPERATIONS = frozenset({"GetFindingsV2", "BatchUpdateFindingsV2", "DescribeSecurityHubV2"})


@dataclass
class TokenBucket:
    rate: float
    burst: int
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Throttle:
    """Admits or refuses requests; `enabled` and `error_code` are the knob."""

    def __init__(self, seconds: Callable[[], float]) -> None:
        self._seconds = seconds
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self.enabled = False
        self.error_code: str | None = None

    def configure(self, enabled: bool, error_code: str | None = None) -> None:
        if error_code not in (None, "LimitExceededException", "TooManyRequestsException"):
            raise ValueError("error_code must be LimitExceededException or TooManyRequestsException")
        with self._lock:
            self.enabled = enabled
            self.error_code = error_code
            self._buckets.clear()

    def admit(self, operation: str, account: str, region: str) -> bool:
        if not self.enabled:
            return True
        now = self._seconds()
        with self._lock:
            bucket = self._buckets.get((operation, account, region))
            if bucket is None:
                rate, burst = RATES.get(operation, DEFAULT_RATE)
                bucket = self._buckets[(operation, account, region)] = TokenBucket(rate, burst, burst, now)
            return bucket.take(now)

    def exception_for(self, operation: str) -> str:
        return self.error_code or declared_exception(operation)


def declared_exception(operation: str) -> str:
    """The 429 exception botocore's model declares for `operation`."""
    if operation in V2_OPERATIONS:
        return "ThrottlingException"
    return "TooManyRequestsException" if operation in UNDECLARED_THROTTLE else "LimitExceededException"
