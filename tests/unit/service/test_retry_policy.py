"""The worker's retry decisions, on their own: no database, no queue, no clock (the time is passed in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hubsync.domain.hint import HintSource, SyncHint
from hubsync.service.retry_policy import Failures, Fate, RetryPolicy, clamp, fate, gives_up
from hubsync.service.sync import Outcome
from tests.integration.store.builders import finding

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def outcome(key: str = "f-1", ticket: str | None = None, error: str | None = None, *, transient: bool = False,
            retry_at: datetime | None = None) -> Outcome:
    return Outcome(key, "id", ticket, 11, "synced", ("UpdateFinding",), error, transient=transient, retry_at=retry_at)


# -- what becomes of a hint ----------------------------------------------------------------------------------------


def test_a_hint_without_an_error_is_done():
    assert fate(None) is Fate.DONE
    assert fate(outcome()) is Fate.DONE


def test_a_passing_error_holds_a_hint_up_and_its_own_error_fails_it():
    assert fate(outcome(error="another sync holds this finding", transient=True)) is Fate.HELD_UP
    assert fate(outcome(error="Jira refused the ticket: priority is required")) is Fate.FAILED


def test_failures_are_found_by_the_finding_or_the_ticket_the_hint_names():
    by_finding = SyncHint("t", HintSource.SECURITYHUB_IMPORTED, finding=finding(1))
    by_ticket = SyncHint("t", HintSource.JIRA_WEBHOOK, ticket_key="SEC-1")
    failed_finding = outcome(finding(1).key, error="Jira answered 503")
    failed_ticket = outcome("f-other", "SEC-1", error="Security Hub did not update the finding")

    failures = Failures.of([failed_finding, failed_ticket, outcome(finding(2).key, "SEC-2")])

    assert failures.for_hint(by_finding) is failed_finding
    assert failures.for_hint(by_ticket) is failed_ticket
    assert failures.for_hint(SyncHint("t", HintSource.SECURITYHUB_IMPORTED, finding=finding(2))) is None
    assert failures.for_hint(SyncHint("t", HintSource.JIRA_WEBHOOK, ticket_key="SEC-2")) is None  # it synced


# -- when it is given up on ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("counts_every_receive", [False, True])
def test_a_counted_retry_gives_up_once_the_attempts_are_used(counts_every_receive):
    assert [gives_up(n, 3, counted=True, counts_every_receive=counts_every_receive) for n in (1, 2, 3, 4)] == [
        False, False, True, True]


def test_an_uncounted_retry_gives_up_only_where_every_receive_counts_anyway():
    assert not any(gives_up(n, 3, counted=False, counts_every_receive=False) for n in (1, 3, 300))
    assert [gives_up(n, 3, counted=False, counts_every_receive=True) for n in (2, 3)] == [False, True]


# -- how long it waits ---------------------------------------------------------------------------------------------


def test_the_backoff_doubles_up_to_a_ceiling():
    policy = RetryPolicy(retry_base_seconds=5, retry_max_seconds=30)
    assert [policy.backoff(n) for n in (0, 1, 2, 3, 4, 5)] == [5, 5, 10, 20, 30, 30]


def test_the_outage_backoff_is_as_long_as_the_hint_has_waited_between_the_base_and_the_cap():
    policy = RetryPolicy(retry_base_seconds=5, retry_max_seconds=300)
    waits = [0, 2, 5, 12.4, 12.6, 299, 301, 86400]
    assert [policy.outage_backoff(NOW - timedelta(seconds=s), NOW) for s in waits] == [
        5.0, 5.0, 5.0, 12.0, 13.0, 299.0, 300.0, 300.0]
    assert policy.outage_backoff(None, NOW) == 5.0  # enqueued when, unknown: as if just now


def test_a_passing_failure_comes_back_soon_but_not_before_the_moment_the_sync_named():
    policy = RetryPolicy(retry_base_seconds=5, retry_max_seconds=300, transient_max_seconds=30)
    long_ago = NOW - timedelta(hours=1)

    assert policy.transient_backoff(NOW, None, NOW) == 5.0
    assert policy.transient_backoff(long_ago, None, NOW) == 30.0  # the outage backoff, capped lower
    assert policy.transient_backoff(None, NOW + timedelta(seconds=40), NOW) == 41.0  # a claim's lease: just after
    assert policy.transient_backoff(long_ago, NOW + timedelta(seconds=3), NOW) == 30.0  # the named moment is sooner
    assert policy.transient_backoff(NOW, NOW - timedelta(minutes=1), NOW) == 5.0  # a moment already past
    assert isinstance(policy.transient_backoff(NOW, NOW + timedelta(seconds=0.4), NOW), float)


def test_the_outage_window_adds_up_the_outage_backoffs_between_the_first_receive_and_the_last():
    policy = RetryPolicy(retry_base_seconds=5, retry_max_seconds=300)
    assert policy.outage_window(0) == policy.outage_window(1) == timedelta(0)
    assert policy.outage_window(2) == timedelta(seconds=5)
    assert policy.outage_window(5) == timedelta(seconds=5 + 5 + 10 + 20)  # doubling: each wait as long as so far
    assert policy.outage_window(300) >= timedelta(hours=24)  # the template's maxReceiveCount rides out a day
    assert policy.outage_window(301) - policy.outage_window(300) == timedelta(seconds=300)  # at the cap


def test_clamp():
    assert [clamp(v, 5, 30) for v in (-1, 5, 12.5, 30, 31)] == [5, 5, 12.5, 30, 30]
