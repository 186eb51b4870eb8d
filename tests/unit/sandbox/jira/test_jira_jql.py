"""The JQL subset: parsing (precedence, operators, Jira's error messages) and evaluation against the world."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubsync_sandbox.jira import adf, jql
from hubsync_sandbox.jira.jql import EMPTY, And, Clause, Function, Not, Or, OrderKey, PropertyRef
from hubsync_sandbox.jira.world import JiraWorld


def test_and_binds_tighter_than_or_and_parentheses_override_it() -> None:
    loose = jql.parse("project = SEC OR status = Open AND labels = a").where
    assert loose == Or((
        Clause("project", "=", "SEC"),
        And((Clause("status", "=", "Open"), Clause("labels", "=", "a"))),
    ))
    grouped = jql.parse("(project = SEC OR status = Open) AND labels = a").where
    assert grouped == And((
        Or((Clause("project", "=", "SEC"), Clause("status", "=", "Open"))),
        Clause("labels", "=", "a"),
    ))


def test_operators_values_and_order_by() -> None:
    query = jql.parse(
        'status NOT IN ("Risk approved", Resolved) and labels is not empty && '
        "issue.property[hubsync.finding].id in (f1, 'f 2') || NOT assignee = currentUser() "
        "ORDER BY priority DESC, key"
    )
    assert query.where == Or((
        And((
            Clause("status", "not in", ("Risk approved", "Resolved")),
            Clause("labels", "is not", EMPTY),
            Clause(PropertyRef("hubsync.finding", "id"), "in", ("f1", "f 2")),
        )),
        Not(Clause("assignee", "=", Function("currentuser"))),
    ))
    assert query.order_by == (OrderKey("priority", True), OrderKey("key", False))


def test_aliases_keywords_and_escapes() -> None:
    query = jql.parse(r'issuekey = SEC-1 AND Type = "B\"ug" AND updatedDate >= "-4w 2d"')
    assert query.where == And((
        Clause("key", "=", "SEC-1"),
        Clause("issuetype", "=", 'B"ug'),
        Clause("updated", ">=", "-4w 2d"),
    ))


def test_order_by_alone_is_a_query_without_a_restriction() -> None:
    assert not jql.parse("order by key desc").bounded
    assert not jql.parse("").bounded
    assert jql.parse("project = SEC").bounded


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo = 1", "Field 'foo' does not exist or you do not have permission to view it."),
        ('project = "SEC', "The quoted string 'SEC' has not been completed."),
        ("project =", "Expecting either a value, list or function but reached the end of the query."),
        ("project = SEC status = Open", "Expecting either 'OR' or 'AND' but got 'status'. (line 1, character 15)"),
        ("project in SEC", "The operator 'IN' only supports a list of values for field 'project'."),
        ("labels > a", "The operator '>' is not supported by the 'labels' field."),
        ("project SEC", "Expecting operator but got 'SEC'. The valid operators are"),
        ("labels is a", "The operator 'IS' only supports EMPTY or NULL for field 'labels'."),
        ("updated > yesterday", "Date value 'yesterday' for field 'updated' is invalid."),
        ("project = SEC AND (status = Open", "Expecting ')' but reached the end of the query."),
        ("updated > soon()", "Unable to find JQL function 'soon()'."),
        ("summary ~ boom", "Field 'summary' does not exist or you do not have permission to view it."),
    ],
)
def test_errors_carry_jiras_wording(text: str, message: str) -> None:
    with pytest.raises(jql.JqlError) as caught:
        jql.parse(text)
    assert message in str(caught.value)


def test_relative_and_absolute_dates() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert jql.parse_date("-2w", "updated", now) == now - timedelta(weeks=2)
    assert jql.parse_date("-5d", "updated", now) == now - timedelta(days=5)
    assert jql.parse_date("-10m", "updated", now) == now - timedelta(minutes=10)
    assert jql.parse_date("4w 2d", "updated", now) == now + timedelta(weeks=4, days=2)
    assert jql.parse_date("2026/01/31 08:30", "updated", now) == datetime(2026, 1, 31, 8, 30, tzinfo=UTC)
    assert jql.parse_date("2026-01-31", "updated", now) == datetime(2026, 1, 31, tzinfo=UTC)


# -- evaluation against a world ------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(clock: Clock) -> JiraWorld:
    """SEC-1 (a, b; 20 days old), SEC-2 (no labels, 3 days old, Allocated for fix), OPS-1 (c; today, High)."""
    site = JiraWorld("cloud", "http://jira.test", clock=clock)
    bot = site.user_by_login("hubsync-bot@example.com")
    assert bot is not None

    def create(project: str, labels: list[str], finding: str | None, **extra: object) -> str:
        fields = {"project": {"key": project}, "issuetype": {"name": "Bug"}, "summary": "s", "labels": labels,
                  "description": adf.document("d"), **extra}
        properties = [{"key": "hubsync.finding", "value": {"id": finding, "tags": ["x", "y"]}}] if finding else None
        return site.create_issue(fields, bot, properties).key

    clock.now -= timedelta(days=20)
    create("SEC", ["a", "b"], "f1")
    clock.now += timedelta(days=17)
    create("SEC", [], "f2", assignee={"accountId": "5d8f2a7c41e3b90c0a7e6d21"})
    site.transition_issue("SEC-2", "81", bot)
    clock.now += timedelta(days=3)
    create("OPS", ["c"], None, priority={"name": "High"})
    return site


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("project = SEC", {"SEC-1", "SEC-2"}),
        ("project = 10001", {"OPS-1"}),
        ("project != SEC", {"OPS-1"}),
        ('status = "Allocated for fix"', {"SEC-2"}),
        ("status = open", {"SEC-1"}),
        ("status != Open", {"SEC-2", "OPS-1"}),
        ('status in (Open, "To Do")', {"SEC-1", "OPS-1"}),
        ("status not in (Open)", {"SEC-2", "OPS-1"}),
        ("statusCategory = indeterminate", {"SEC-2"}),
        ("labels = a", {"SEC-1"}),
        ("labels in (b, c)", {"SEC-1", "OPS-1"}),
        ("labels != a", {"OPS-1"}),  # != never matches an issue without labels, as in Jira
        ("labels is EMPTY", {"SEC-2"}),
        ("key in (SEC-1, OPS-1)", {"SEC-1", "OPS-1"}),
        ("key = 10001", {"SEC-2"}),
        ("issue.property[hubsync.finding].id = f2", {"SEC-2"}),
        ("issue.property[hubsync.finding].id in (f1, f9)", {"SEC-1"}),
        ("issue.property[hubsync.finding].tags = y", {"SEC-1", "SEC-2"}),
        ("issue.property[hubsync.finding].id is EMPTY", {"OPS-1"}),
        ("updated >= -5d", {"SEC-2", "OPS-1"}),
        ("created < -1w", {"SEC-1"}),
        ('created > "2026/03/01"', {"SEC-2", "OPS-1"}),
        ("updated <= startOfDay()", {"SEC-1", "SEC-2"}),
        ("assignee = 5d8f2a7c41e3b90c0a7e6d21", {"SEC-2"}),
        ("assignee is EMPTY", {"SEC-1", "OPS-1"}),
        ("priority = High", {"OPS-1"}),
        ("resolution is EMPTY", {"SEC-1", "SEC-2", "OPS-1"}),
        ("project = SEC AND (labels = a OR status = 'Allocated for fix')", {"SEC-1", "SEC-2"}),
        ("NOT project = SEC", {"OPS-1"}),
    ],
)
def test_queries_select_the_issues_jira_would(world: JiraWorld, query: str, keys: set[str]) -> None:
    assert set(world.search_keys(query)) == keys


def test_order_by_sorts_and_the_default_is_newest_first(world: JiraWorld) -> None:
    assert world.search_keys("project in (SEC, OPS)") == ["OPS-1", "SEC-2", "SEC-1"]
    assert world.search_keys("project in (SEC, OPS) ORDER BY key") == ["OPS-1", "SEC-1", "SEC-2"]
    assert world.search_keys("project in (SEC, OPS) ORDER BY priority DESC, created ASC") == [
        "OPS-1", "SEC-1", "SEC-2",
    ]
    assert world.search_keys("project = SEC ORDER BY updated DESC") == ["SEC-2", "SEC-1"]


def test_current_user_is_the_searcher(world: JiraWorld) -> None:
    alice = world.user_by_account_id("5d8f2a7c41e3b90c0a7e6d21")
    assert [issue.key for issue in world.search("assignee = currentUser()", actor=alice)] == ["SEC-2"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("status in (Open, Gone)", "The value 'Gone' does not exist for the field 'status'."),
        ("key in (SEC-1, SEC-99)", "An issue with key 'SEC-99' does not exist for field 'key'."),
    ],
)
def test_unknown_values_are_refused(world: JiraWorld, query: str, message: str) -> None:
    with pytest.raises(jql.JqlError, match=message.replace("(", r"\(").replace(")", r"\)")):
        world.search_keys(query)


def test_labels_need_not_exist(world: JiraWorld) -> None:
    assert world.search_keys("labels = never-used") == []


LABELS = ["a", "b", "c", "d"]


@settings(max_examples=40, deadline=None)
@given(
    labels_per_issue=st.lists(st.lists(st.sampled_from(LABELS), unique=True, max_size=3), min_size=1, max_size=6),
    chosen=st.lists(st.sampled_from(LABELS), unique=True, min_size=1, max_size=3),
)
def test_label_operators_match_their_definition(labels_per_issue: list[list[str]], chosen: list[str]) -> None:
    site = JiraWorld("datacenter", "http://jira.test")
    bot = site.user_by_name("hubsync-bot")
    keys = [
        site.create_issue({"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "s",
                           "labels": labels}, bot).key
        for labels in labels_per_issue
    ]
    listed = ", ".join(chosen)
    expected_in = {k for k, labels in zip(keys, labels_per_issue, strict=True) if set(labels) & set(chosen)}
    expected_not_in = {k for k, labels in zip(keys, labels_per_issue, strict=True)
                       if labels and not set(labels) & set(chosen)}
    assert set(site.search_keys(f"labels in ({listed})")) == expected_in
    assert set(site.search_keys(f"labels not in ({listed})")) == expected_not_in
    assert set(site.search_keys(f"project = OPS AND NOT labels in ({listed})")) == set(keys) - expected_in
