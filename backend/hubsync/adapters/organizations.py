"""Who owns an AWS account, from its tags in AWS Organizations, behind `OwnerDirectoryPort`.

Account tags can only be read from the Organizations management account (or a delegated administrator), so this
goes through a second role, usually not the Security Hub one. Answers are cached for a while, "no owner" included,
because every new finding asks and accounts rarely change hands. Nothing here raises to the caller: a missing role,
a refused call, an unknown account or throttling that outlasted the retries all mean "no owner known", logged once
per cache period, and the caller falls back to the default assignee.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from hubsync.adapters.aws_session import DEFAULT_MAX_ATTEMPTS, Clock, client_config, count_requests, utc_now

log = logging.getLogger(__name__)

DEFAULT_OWNER_TAG = "SecurityContactID"
DEFAULT_TTL = timedelta(hours=1)
DEFAULT_FAILURE_TTL = timedelta(minutes=5)
ACCOUNT_ID = re.compile(r"^\d{12}$")


class LookupFailed(Exception):
    """Why an answer could not be had; cached for the shorter failure TTL."""


class OwnerDirectory:
    """`OwnerDirectoryPort` over a boto3 `organizations` client (None: no management-account role configured).

    `calls` counts the HTTP requests sent per operation, retries included.
    """

    def __init__(
        self,
        organizations: Any | None,
        tag_key: str = DEFAULT_OWNER_TAG,
        ttl: timedelta = DEFAULT_TTL,
        failure_ttl: timedelta = DEFAULT_FAILURE_TTL,
        clock: Clock = utc_now,
    ) -> None:
        self._organizations = organizations
        self.tag_key = tag_key
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[str | None, datetime]] = {}
        self.calls: Counter[str] = Counter()
        if organizations is not None:
            count_requests(organizations, self.calls)

    @classmethod
    def for_session(
        cls, session: boto3.Session | None, max_attempts: int = DEFAULT_MAX_ATTEMPTS, **options: Any
    ) -> OwnerDirectory:
        """A directory reading through `session` (a role in the management account); None: no role configured."""
        client = None if session is None else session.client("organizations", config=client_config(max_attempts))
        return cls(client, **options)

    def owner_of(self, account_id: str) -> str | None:
        """The owner tag's value (e.g. an email or a Jira account id), or None: untagged, or unknown for now."""
        return self._cached("owner", account_id, self._read_owner)

    def account_name(self, account_id: str) -> str | None:
        """The account's name in the organization, or None."""
        return self._cached("name", account_id, self._read_name)

    # -- internals -------------------------------------------------------------------------------
    def _cached(self, kind: str, account_id: str, read: Callable[[str], str | None]) -> str | None:
        now = self._clock()
        with self._lock:
            hit = self._cache.get((kind, account_id))
        if hit is not None and now < hit[1]:
            return hit[0]
        try:
            value, expires = read(account_id), now + self._ttl
        except LookupFailed as failure:
            log.warning("%s of AWS account %s unknown: %s", kind, account_id, failure)
            value, expires = None, now + self._failure_ttl
        with self._lock:
            self._cache[(kind, account_id)] = (value, expires)
        return value

    def _read_owner(self, account_id: str) -> str | None:
        client = self._client_for(account_id)
        try:
            for page in client.get_paginator("list_tags_for_resource").paginate(ResourceId=account_id):
                for tag in page.get("Tags", []):
                    if tag.get("Key") == self.tag_key:
                        return tag.get("Value", "").strip() or None
        except (ClientError, BotoCoreError) as error:
            raise LookupFailed(_reason(error)) from error
        return None

    def _read_name(self, account_id: str) -> str | None:
        client = self._client_for(account_id)
        try:
            return client.describe_account(AccountId=account_id)["Account"].get("Name") or None
        except (ClientError, BotoCoreError) as error:
            raise LookupFailed(_reason(error)) from error

    def _client_for(self, account_id: str) -> Any:
        if self._organizations is None:
            raise LookupFailed("no role in the Organizations management account is configured")
        if not ACCOUNT_ID.match(account_id or ""):
            raise LookupFailed(f"{account_id!r} is not a 12-digit account id")
        return self._organizations


def _reason(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Unknown')}: {details.get('Message', '')}"
    return f"{type(error).__name__}: {error}"
