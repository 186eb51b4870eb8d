"""The HTTP leg to one Jira site: one `requests.Session`, rate limits honoured, errors as Jira worded them.

Every request takes a token from the site's budget (`rate_limits.JIRA_BUDGETS`, one bucket per site shared by
every client and thread of the process). Jira answers 429 (and sometimes 503) with `Retry-After` when a tenant
goes too fast; such a request was not carried out, so it is sent again after the wait, a bounded number of
times — and the wait pauses the site's whole budget, since the limit is the tenant's, not the request's. An
answer saying no requests remain (`X-RateLimit-Remaining: 0`) pauses the budget until the reset it names
(`Retry-After`, `RateLimit-Reset` in seconds, or `X-RateLimit-Reset` as a timestamp).

Every request is counted under the operation that made it (for the benchmark's "requests per finding") and
reported to `api_calls` with its status and latency.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.auth import AuthBase

from hubsync.adapters import api_calls, rate_limits
from hubsync.adapters.rate_limits import TokenBucket
from hubsync.domain.jira_site import parse_jira_site
from hubsync.domain.ports import JiraUnavailable, JiraUnreachable

log = logging.getLogger(__name__)

DEFAULT_MAX_RETRIES = 5
DEFAULT_MAX_WAIT_S = 60.0
DEFAULT_TIMEOUT_S = 30.0
SERVICE = "jira"  # the `service` label of its requests in `api_calls`


class JiraError(JiraUnavailable):
    """Jira refused a request. `messages` are its `errorMessages` and `errors` (as `field: message`), verbatim;
    `body` is the parsed answer (bulk create reports per-issue errors in it)."""

    def __init__(self, status: int, messages: list[str], *, request: str = "", body: Any = None) -> None:
        self.status = status
        self.messages = messages
        self.body = body
        where = f" to {request}" if request else ""
        super().__init__(f"Jira answered {status}{where}: {'; '.join(messages) or '(no message)'}")


def messages_of(body: Any) -> list[str]:
    """Jira's `{"errorMessages": [...], "errors": {field: message}}` as one list of sentences."""
    if not isinstance(body, Mapping):
        return []
    found = [str(message) for message in body.get("errorMessages") or []]
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        found += [f"{field}: {message}" for field, message in errors.items()]
    return found


class JiraTransport:
    """Sends REST calls under `<base_url>/rest/api/<version>` and returns their JSON (None when empty).

    `base_url` is read by `parse_jira_site`, the parser the install's allow-list check reads it with, and requests go
    under its normal form: a URL the two could read differently raises `InvalidJiraSite` before anything is sent.

    `budget` is the site's token bucket; by default the process-wide one of this site, so that every client of
    one tenant spends, and pauses, the same budget. `sleep` is how waits are spent (tests pass a fake)."""

    def __init__(
        self,
        base_url: str,
        api_version: str,
        auth: AuthBase,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        budget: TokenBucket | None = None,
    ) -> None:
        self.site = parse_jira_site(base_url)
        self.base_url = self.site.base_url
        self.budget = budget or rate_limits.JIRA_BUDGETS.bucket(rate_limits.jira_site_key(self.base_url))
        self.rest_root = f"{self.base_url}/rest/api/{api_version}"
        self._session = session or requests.Session()
        self._session.auth = auth
        self._session.headers.setdefault("Accept", "application/json")
        self._sleep = sleep
        self._max_retries = max_retries
        self._max_wait_s = max_wait_s
        self._timeout_s = timeout_s
        self.requests_made: Counter[str] = Counter()  # by operation, retries included

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        guard: Callable[[], None] | None = None,
        follow_redirects: bool = True,
    ) -> Any:
        """One REST call (`path` relative to the REST root); raises `JiraError` on any answer but 2xx (and 3xx
        when redirects are not followed: their body is returned). `guard` is called right before each attempt is
        sent (after any wait): it raises to stop a call whose caller may no longer make it. A redirect's `Location`
        names the site itself, which a client behind Atlassian's API gateway (Forge) cannot call."""
        attempt = 0
        while True:
            response = self._send(operation, method, path, params, json, guard, follow_redirects)
            hold = self._hold(response)
            wait = self._retry_wait(response, hold, attempt)
            if wait is None:
                if hold is not None:
                    self.budget.pause(hold)  # the next request of this site, from any thread, waits
                break
            log.info("Jira answered %s to %s %s; pausing the site's requests for %.1f s", response.status_code,
                     method, path, wait)
            self.budget.pause(wait)
            attempt += 1
        body = _json_of(response)
        if response.status_code >= 400:
            messages = messages_of(body) or [response.text[:300] or response.reason or "no details"]
            raise JiraError(response.status_code, messages, request=f"{method} {path}", body=body)
        return body

    def close(self) -> None:
        self._session.close()

    def _send(
        self, operation: str, method: str, path: str, params: Mapping[str, Any] | None, json: Any,
        guard: Callable[[], None] | None = None, follow_redirects: bool = True,
    ) -> requests.Response:
        """One HTTP request, once the site's budget has a token for it; counted and reported."""
        wait = self.budget.reserve()
        if wait > 0:
            self._sleep(wait)
        while (paused := self.budget.paused_for()) > 0:  # another thread met a 429 while this one waited
            self._sleep(paused)
        if guard is not None:
            guard()
        self.requests_made[operation] += 1
        started = time.perf_counter()
        try:
            response = self._session.request(
                method, f"{self.rest_root}{path}", params=params, json=json, timeout=self._timeout_s,
                allow_redirects=follow_redirects,
            )
        except requests.RequestException as exc:
            api_calls.record(SERVICE, operation, None, time.perf_counter() - started)
            raise JiraUnreachable(f"Jira did not answer {method} {path}: {type(exc).__name__}") from exc
        api_calls.record(SERVICE, operation, response.status_code, time.perf_counter() - started)
        return response

    def _hold(self, response: requests.Response) -> float | None:
        """Seconds Jira asks this site's client to send nothing, or None: after a 429 or 503 that says how long,
        or an answer that says no requests remain and when they come back."""
        headers = response.headers
        refused = response.status_code in (429, 503)
        if not refused and headers.get("X-RateLimit-Remaining", "").strip() != "0":
            return None
        hold = seconds_until_reset(headers)
        return None if hold is None else min(max(hold, 0.0), self._max_wait_s)

    def _retry_wait(self, response: requests.Response, hold: float | None, attempt: int) -> float | None:
        """Seconds to wait before sending again, or None: 429 always (as Jira says, else exponential backoff),
        503 only when Jira says when to come back."""
        if response.status_code not in (429, 503) or attempt >= self._max_retries:
            return None
        if hold is None:
            if response.status_code == 503:
                return None
            hold = min(2.0**attempt, self._max_wait_s)
        return hold


def seconds_until_reset(headers: Mapping[str, str]) -> float | None:
    """When Jira's budget comes back, in seconds from now, from the first header that says: `Retry-After`
    (seconds or an HTTP date), `RateLimit-Reset` (seconds), `X-RateLimit-Reset` (an ISO 8601 timestamp, Jira
    Cloud's `yyyy-MM-ddTHH:mmZ`)."""
    for seconds in (_seconds(headers.get("Retry-After")), _delta(headers.get("RateLimit-Reset")),
                    _timestamp(headers.get("X-RateLimit-Reset"))):
        if seconds is not None:
            return seconds
    return None


def _seconds(retry_after: str | None) -> float | None:
    """`Retry-After` as seconds: a number, or an HTTP date."""
    if not retry_after:
        return None
    delta = _delta(retry_after)
    if delta is not None:
        return delta
    try:
        return parsedate_to_datetime(retry_after).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


def _delta(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _timestamp(value: str | None) -> float | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # a moment without a zone could be anywhere in a day
    return moment.timestamp() - time.time()


def _json_of(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
