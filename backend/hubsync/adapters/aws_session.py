"""Boto3 sessions that act through the IAM role a tenant granted hubsync, refreshed by botocore before expiry.

A tenant's CloudFormation stack creates a role that trusts hubsync's own AWS identity when the tenant's ExternalId
matches. hubsync's base credentials, and the endpoints it talks to, come from the environment as boto3 reads them:
`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (or any other link of boto3's credential chain) and
`AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` (honoured by boto3 itself since 1.28; the sandbox prints them).

Refreshing is botocore's own mechanism (`DeferredRefreshableCredentials`): the first request assumes the role,
later requests refresh the keys once fewer than 15 minutes are left, and block for fresh keys in the last 10.

Every client of such a session spends the account's rate budgets (`rate_limits`: Security Hub's documented
rates, per operation and Region) and reports its requests to `api_calls` (count by status, latency).
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, DeferredRefreshableCredentials

from hubsync.adapters import api_calls
from hubsync.adapters.rate_limits import throttle_aws_requests

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

DEFAULT_DURATION_SECONDS = 3600
DURATION_RANGE = (900, 43200)  # STS AssumeRole's DurationSeconds bounds
DEFAULT_MAX_ATTEMPTS = 8
USER_AGENT = "hubsync"
_SESSION_NAME_UNSAFE = re.compile(r"[^\w+=,.@-]")


def utc_now() -> datetime:
    return datetime.now(UTC)


def client_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Config:
    """Every hubsync AWS client retries with botocore's adaptive mode, which also slows down after throttling.

    `max_attempts` counts retries after the first try, as botocore's `retries` setting does."""
    return Config(retries={"mode": "adaptive", "max_attempts": max_attempts}, user_agent_extra=USER_AGENT)


def session_name(tenant: str) -> str:
    """`hubsync-<tenant>`, fit for STS (2 to 64 of `[\\w+=,.@-]`), so CloudTrail shows which tenant acted."""
    return ("hubsync-" + _SESSION_NAME_UNSAFE.sub("-", tenant))[:64]


def count_requests(client: Any, counter: Counter[str]) -> Counter[str]:
    """Count every HTTP request `client` sends (retries included) under its operation name, e.g. `GetFindings`."""

    def count(event_name: str, **kwargs: Any) -> None:
        counter[event_name.rsplit(".", 1)[-1]] += 1
        return None  # a before-send handler that returns something replaces the response

    client.meta.events.register("before-send", count)
    return counter


OBSERVER_ID = "hubsync-api-calls"
_SENT_AT = "hubsync_sent_at"


def observe_calls(events: Any) -> None:
    """Report every request sent through `events` (`client.meta.events`, or a botocore session's emitter, whose
    clients copy it) to `api_calls`: service, operation, HTTP status, and the time from sending to the answer.
    The clock starts after any rate-limit wait (the handler runs last), so latency is the other side's.
    Registered once per emitter; a second call is a no-op."""

    def sent(request: Any, **_kwargs: Any) -> None:
        context = getattr(request, "context", None)
        if context is not None:
            context[_SENT_AT] = time.perf_counter()
        return None

    def answered(event_name: str, context: Any = None, response_dict: Any = None, **_kwargs: Any) -> None:
        started = (context or {}).get(_SENT_AT)
        if started is None:
            return
        _event, service, operation = event_name.split(".", 2)
        status = response_dict.get("status_code") if response_dict else None
        api_calls.record(service, operation, status, time.perf_counter() - started)
        del context[_SENT_AT]

    events.register_last("before-send", sent, unique_id=f"{OBSERVER_ID}-sent")
    events.register_last("response-received", answered, unique_id=f"{OBSERVER_ID}-answered")


def assumed_role_session(
    role_arn: str,
    tenant: str,
    external_id: str | None = None,
    region: str | None = None,
    duration_seconds: int = DEFAULT_DURATION_SECONDS,
    base_session: boto3.Session | None = None,
    clock: Clock = utc_now,
    requests: Counter[str] | None = None,
) -> boto3.Session:
    """A session acting as `role_arn` for `tenant`. Nothing is called until the first request, so building one is
    cheap and a refused AssumeRole surfaces where the session is used (as botocore's ClientError).

    `duration_seconds` should stay above the 15-minute refresh window (the default is an hour): with 900, botocore
    renews the keys on almost every request. `clock` is what expiry is judged by; expiry is counted from when we
    asked, by that clock, so a skewed host clock cannot make us sign with expired keys. `requests` counts the
    AssumeRole calls.
    """
    low, high = DURATION_RANGE
    if not low <= duration_seconds <= high:
        raise ValueError(f"duration_seconds must be from {low} to {high}, not {duration_seconds}")
    base = base_session or boto3.Session()
    sts = base.client("sts", region_name=region or base.region_name, config=client_config())
    observe_calls(sts.meta.events)
    if requests is not None:
        count_requests(sts, requests)
    name = session_name(tenant)
    extra = {"ExternalId": external_id} if external_id else {}

    def assume_role() -> dict[str, Any]:
        requested_at = clock()
        response = sts.assume_role(
            RoleArn=role_arn, RoleSessionName=name, DurationSeconds=duration_seconds, **extra
        )
        credentials = response["Credentials"]
        log.info("assumed %s as %s (valid %ss)", role_arn, name, duration_seconds)
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": (requested_at + timedelta(seconds=duration_seconds)).isoformat(),
        }

    credentials = DeferredRefreshableCredentials(refresh_using=assume_role, method=_RoleProvider.METHOD,
                                                 time_fetcher=clock)
    core = botocore.session.Session()
    core.register_component("credential_provider", CredentialResolver([_RoleProvider(credentials)]))
    events = core.get_component("event_emitter")  # every client of the session copies its handlers
    throttle_aws_requests(events, account_of(role_arn))
    observe_calls(events)
    return boto3.Session(botocore_session=core, region_name=region or base.region_name)


def account_of(role_arn: str) -> str:
    """The account a role lives in (`arn:aws:iam::<account>:role/...`): the account whose budgets its calls
    spend. An ARN of another shape keeps its own budget, under its whole text."""
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else role_arn


class _RoleProvider(CredentialProvider):
    """Hands botocore the role's refreshable credentials, in place of its default chain."""

    METHOD = "hubsync-assume-role"
    CANONICAL_NAME = "custom-hubsync-assume-role"

    def __init__(self, credentials: DeferredRefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> DeferredRefreshableCredentials:
        return self._credentials
