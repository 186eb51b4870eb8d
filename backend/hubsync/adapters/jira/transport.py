"""The HTTP leg to one Jira site: one `requests.Session`, rate limits honoured, errors as Jira worded them.

Jira answers 429 (and sometimes 503) with `Retry-After` when a client goes too fast; such a request was not
carried out, so it is sent again after the wait, a bounded number of times. Every request is counted under the
operation that made it, for the benchmark's "requests per finding".
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.auth import AuthBase

log = logging.getLogger(__name__)

DEFAULT_MAX_RETRIES = 5
DEFAULT_MAX_WAIT_S = 60.0
DEFAULT_TIMEOUT_S = 30.0


class JiraError(Exception):
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
    """Sends REST calls under `<base_url>/rest/api/<version>` and returns their JSON (None when empty)."""

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
    ) -> None:
        self.base_url = base_url.rstrip("/")
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
    ) -> Any:
        """One REST call (`path` relative to the REST root); raises `JiraError` on any answer but 2xx."""
        attempt = 0
        while True:
            self.requests_made[operation] += 1
            response = self._session.request(
                method, f"{self.rest_root}{path}", params=params, json=json, timeout=self._timeout_s
            )
            wait = self._retry_wait(response, attempt)
            if wait is None:
                break
            log.info("Jira answered %s to %s %s; retrying in %.1f s", response.status_code, method, path, wait)
            self._sleep(wait)
            attempt += 1
        body = _json_of(response)
        if response.status_code >= 400:
            messages = messages_of(body) or [response.text[:300] or response.reason or "no details"]
            raise JiraError(response.status_code, messages, request=f"{method} {path}", body=body)
        return body

    def close(self) -> None:
        self._session.close()

    def _retry_wait(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before sending again, or None: 429 always (Retry-After, else exponential backoff),
        503 only when Jira says when to come back."""
        if response.status_code not in (429, 503) or attempt >= self._max_retries:
            return None
        retry_after = _seconds(response.headers.get("Retry-After"))
        if retry_after is None:
            if response.status_code == 503:
                return None
            retry_after = 2.0**attempt
        return min(max(retry_after, 0.0), self._max_wait_s)


def _seconds(retry_after: str | None) -> float | None:
    """`Retry-After` as seconds: a number, or an HTTP date."""
    if not retry_after:
        return None
    try:
        return float(retry_after)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(retry_after).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


def _json_of(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
