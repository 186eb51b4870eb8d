"""Client-side rate budgets: a token bucket per AWS API, account and Region, and one per Jira site (tenant).

Security Hub throttles each API per account and Region (GetFindings 3 requests/s with bursts of 6;
BatchImportFindings, BatchUpdateFindings and every other operation 10/s with bursts of 30) and Jira answers 429
past its limits. Spending each budget at the rate the other side allows, instead of finding the limit by being
refused, keeps hubsync at the ceiling with no retries; botocore's adaptive retry and the Jira transport's 429
handling stay the second line.

A bucket never sleeps: `reserve()` books a token and says how long to wait before using it, so each caller waits
with its own (injectable) sleep and without holding the lock. `pause(seconds)` holds every later caller of the
bucket back: a Retry-After speaks of the whole tenant, not of the one request that received it.

Budgets are per process. With several worker processes on one AWS account, give each its part with
`HUBSYNC_AWS_RATE_SHARE` (e.g. 0.25 for four); Jira's budget is per site, `HUBSYNC_JIRA_RATE` requests a second
with bursts of `HUBSYNC_JIRA_BURST` (unset: no fixed budget, only what Jira's 429s and headers ask for —
Atlassian does not publish its per-second limits).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Rate:
    """`per_second` tokens a second (math.inf: no limit), at most `burst` saved up."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not self.per_second > 0:
            raise ValueError(f"a rate must be above 0 requests per second, not {self.per_second}")
        if self.burst < 1:
            raise ValueError(f"a burst must be at least 1, not {self.burst}")

    @property
    def limited(self) -> bool:
        return math.isfinite(self.per_second)

    def share(self, fraction: float) -> Rate:
        """This budget's `fraction`, for one of several processes spending it together."""
        if not 0 < fraction <= 1:
            raise ValueError(f"a share must be in (0, 1], not {fraction}")
        return Rate(self.per_second * fraction, max(1, math.floor(self.burst * fraction)))


UNLIMITED = Rate(math.inf, 1)

# Security Hub's documented rates, per account and Region (the service's API reference, "Throttling"); the V2
# operations' are not published.
SECURITY_HUB_RATES: Mapping[str, Rate] = {
    "GetFindings": Rate(3, 6),
    "GetFindingsV2": Rate(3, 6),  # unpublished: budgeted as GetFindings, the read it replaces
    "BatchEnableStandards": Rate(1, 1),
    "UpdateStandardsControl": Rate(1, 5),
}
SECURITY_HUB_DEFAULT = Rate(10, 30)


class TokenBucket:
    """A thread-safe token bucket whose tokens can be booked ahead (a negative balance is a queue of bookings).

    It starts full. `headroom` tokens of the burst are never spent: our clock and the server's differ by the
    network's jitter, and a bucket exactly as large as the server's would, now and then, send one request a
    hair too early.
    """

    def __init__(self, rate: Rate, clock: Clock = time.monotonic, headroom: int = 1) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._headroom = headroom
        self._rate = rate
        self._tokens = float(self._capacity)
        self._updated = clock()
        self._paused_until = -math.inf

    @property
    def rate(self) -> Rate:
        return self._rate

    @property
    def _capacity(self) -> int:
        return max(1, self._rate.burst - self._headroom)

    def configure(self, rate: Rate) -> None:
        """Change the budget in place (callers already holding this bucket keep it)."""
        with self._lock:
            self._refill(self._clock())
            was_limited = self._rate.limited
            self._rate = rate
            self._tokens = min(self._tokens, float(self._capacity)) if was_limited else float(self._capacity)

    def reserve(self) -> float:
        """Book one token; the seconds to wait before the request it pays for may go (0: at once)."""
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until)
            if not self._rate.limited:
                return start - now
            self._refill(start)
            self._tokens -= 1
            ready = self._updated + max(0.0, -self._tokens) / self._rate.per_second
            return max(0.0, ready - now)

    def pause(self, seconds: float) -> None:
        """Nobody takes a token for `seconds` from now (a pause already longer stays); afterwards one request
        may go at once and the rest follow at the rate, as the other side's own bucket refills from empty."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            if until <= self._paused_until:
                return
            self._paused_until = until
            self._tokens = 1.0
            self._updated = until

    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when not paused)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())

    def _refill(self, now: float) -> None:
        if now > self._updated:
            if self._rate.limited:
                self._tokens = min(float(self._capacity), self._tokens + (now - self._updated) * self._rate.per_second)
            self._updated = now


class Budgets:
    """Buckets by key, each made on first use at the rate `rate_for(key)` names; thread-safe, one per process
    for each kind of budget so every client of one account or site spends the same budget. `clock` and `sleep`
    are injectable, so tests need no real waits."""

    def __init__(
        self, rate_for: Callable[[Any], Rate], clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        self._rate_for = rate_for
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[Hashable, TokenBucket] = {}

    def spend(self, key: Hashable) -> float:
        """Wait (with this registry's sleep) for a token of `key`'s budget; the seconds waited."""
        wait = self.bucket(key).reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def bucket(self, key: Hashable) -> TokenBucket:
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                found = self._buckets[key] = TokenBucket(self._rate_for(key), self._clock)
            return found

    def configure(self, key: Hashable, rate: Rate) -> TokenBucket:
        """Set the budget of `key` (e.g. one tenant's Jira site), now and for clients made later."""
        bucket = self.bucket(key)
        bucket.configure(rate)
        return bucket

    def clear(self) -> None:
        """Forget every bucket (each starts full again at its rate)."""
        with self._lock:
            self._buckets.clear()


# -- AWS ----------------------------------------------------------------------------------------------------------
AwsKey = tuple[str, str, str, str]  # service id, account, Region, operation


@dataclass(frozen=True)
class RateSettings:
    """The operator's budgets (HUBSYNC_JIRA_RATE, HUBSYNC_JIRA_BURST, HUBSYNC_AWS_RATE_SHARE), set by `configure`."""

    jira_rate: float | None = None  # requests a second per site; None: no fixed budget
    jira_burst: int | None = None  # default: twice the rate
    aws_share: float | None = None  # this process's share of Security Hub's documented budgets


_settings = RateSettings()


def configure(*, jira_rate: float | None, jira_burst: int | None, aws_share: float | None) -> None:
    """Set this process's budgets (the composition root does, from the settings) before any client spends one."""
    global _settings
    _settings = RateSettings(jira_rate, jira_burst, aws_share)


def aws_rate(key: AwsKey, settings: RateSettings | None = None) -> Rate:
    """The documented budget of one AWS API in one account and Region, times this process's share of it.
    Only Security Hub's are known; other services are left to botocore's adaptive retry alone."""
    service, _account, _region, operation = key
    if service != "securityhub":
        return UNLIMITED
    rate = SECURITY_HUB_RATES.get(operation, SECURITY_HUB_DEFAULT)
    share = (settings or _settings).aws_share
    return rate if share is None else rate.share(share)


AWS_BUDGETS = Budgets(aws_rate)
THROTTLE_HANDLER_ID = "hubsync-rate-budget"


def throttle_aws_requests(events: Any, account: str, budgets: Budgets | None = None) -> None:
    """Make every Security Hub request sent through `events` (a botocore event emitter: `client.meta.events`, or
    a botocore session's, which its clients copy) wait for a token of its operation's budget in `account` and
    the client's Region (`budgets`: default `AWS_BUDGETS`). Retries take a token too: the server counts them.

    Registered once per emitter (a second call is a no-op); it runs before the generic `before-send` handlers,
    among them the one that starts a request's clock."""

    def take_token(event_name: str, request: Any, **_kwargs: Any) -> None:
        _before, service, operation = event_name.split(".", 2)
        region = (getattr(request, "context", None) or {}).get("client_region") or "unknown"
        (budgets or AWS_BUDGETS).spend((service, account, region, operation))  # AWS_BUDGETS as it is now
        return None  # a before-send handler that returns something replaces the response

    events.register("before-send.securityhub", take_token, unique_id=THROTTLE_HANDLER_ID)


# -- Jira -----------------------------------------------------------------------------------------------------------
def jira_rate(_site: str, settings: RateSettings | None = None) -> Rate:
    """The budget of one Jira site: `HUBSYNC_JIRA_RATE` requests a second, bursts of `HUBSYNC_JIRA_BURST`
    (default: twice the rate); unset, no fixed budget (429s and rate-limit headers still pause the site)."""
    chosen = settings or _settings
    if chosen.jira_rate is None:
        return UNLIMITED
    burst = chosen.jira_burst
    return Rate(chosen.jira_rate, burst if burst is not None else max(1, math.ceil(2 * chosen.jira_rate)))


JIRA_BUDGETS = Budgets(jira_rate)


def jira_site_key(base_url: str) -> str:
    """One budget per Jira site, however its URL was written."""
    return base_url.rstrip("/").lower()
