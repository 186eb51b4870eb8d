"""Which failures are passing ones: they decide whether a hint's attempt counts, so each kind a side raises is
classified here as the worker will see it."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy.exc
from botocore.exceptions import ClientError, EndpointConnectionError

from hubsync.adapters.faults import database_unavailable, is_transient
from hubsync.adapters.jira.transport import JiraError
from hubsync.domain.link import StaleLink
from hubsync.domain.sync_locks import SyncLockLost, SyncLockTimeout


def aws(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "BatchUpdateFindings")


def database_down() -> sqlalchemy.exc.OperationalError:
    return sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))


@pytest.mark.parametrize("error", [
    JiraError(429, ["rate limited"]),
    JiraError(500, ["oops"]),
    JiraError(503, ["unavailable"]),
    requests.ConnectionError("reset by peer"),
    requests.Timeout("read timed out"),
    aws("ThrottlingException"),
    aws("TooManyRequestsException"),
    aws("InternalException", 500),
    aws("SomethingNew", 503),
    EndpointConnectionError(endpoint_url="https://securityhub.eu-west-1.amazonaws.com"),
    database_down(),
    StaleLink("changed since version 3"),
    SyncLockLost("session gone"),
    SyncLockTimeout("held for 300 s"),
], ids=repr)
def test_a_side_that_could_not_answer_now_is_a_passing_failure(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize("error", [
    JiraError(400, ["priority: Priority name 'Urgent' is not valid"]),
    JiraError(403, ["You do not have permission to create issues in this project"]),
    aws("InvalidInputException"),
    aws("AccessDeniedException", 403),
    ValueError("a bug"),
    sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
], ids=repr)
def test_a_refusal_or_a_bug_is_the_works_own_failure(error: Exception) -> None:
    assert not is_transient(error)


def test_an_error_raised_from_a_passing_one_is_passing_too() -> None:
    try:
        try:
            raise database_down()
        except sqlalchemy.exc.OperationalError as exc:
            raise RuntimeError("the queue's database is unavailable") from exc
    except RuntimeError as wrapped:
        assert is_transient(wrapped)


def test_only_an_unreachable_database_is_an_outage() -> None:
    assert database_unavailable(database_down())
    assert not database_unavailable(sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not database_unavailable(JiraError(503, ["unavailable"]))


def test_errors_raised_from_each_other_in_a_circle_are_classified_and_the_walk_ends() -> None:
    first, second = ValueError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first
    assert not is_transient(first)
