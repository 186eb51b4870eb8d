"""The world's search index changes what a search costs, never what it finds: on random sites changed at random
between searches, every search returns what evaluating the query on every issue returns, in the same order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hubsync_sandbox.jira import adf, jql
from hubsync_sandbox.jira.model import Issue, User
from hubsync_sandbox.jira.world import JiraWorld, ordered

LABELS = ("a", "b", "c")
FINDINGS = ("f1", "f2", "f3")
PROJECTS = ("SEC", "OPS", "10000")
STATUSES = ("Open", "To Do", "Done", "Allocated for fix", "10001")


def scanned(world: JiraWorld, text: str) -> list[str]:
    """What a search must find: the query evaluated on every live issue (the webhook filter's evaluation, which
    uses no index), in its order."""
    query = jql.parse(text)
    matching = [issue for issue in world.issues.values() if world.issue_matches(query, issue.id)]
    return [issue.key for issue in ordered(matching, query.order_by)]


# -- random sites ---------------------------------------------------------------------------------------------------


class Site:
    """A cloud site with a clock of its own, changed by `apply`."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
        self.world = JiraWorld("cloud", "http://jira.test", clock=lambda: self.now)
        bot = self.world.user_by_login("hubsync-bot@example.com")
        assert bot is not None
        self.bot: User = bot

    def issue(self, pick: int) -> Issue | None:
        issues = list(self.world.issues.values())
        return issues[pick % len(issues)] if issues else None

    def apply(self, change: tuple[str, int, Any]) -> None:
        kind, pick, value = change
        self.now += timedelta(hours=7)
        if kind == "create":
            project, labels, finding = value
            properties = [{"key": "hubsync.finding", "value": finding}] if finding is not None else None
            self.world.create_issue({"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": "s",
                                     "labels": labels, "description": adf.document("d")}, self.bot, properties)
            return
        issue = self.issue(pick)
        if issue is None:
            return
        if kind == "labels":
            self.world.edit_issue(issue.key, {"labels": value}, self.bot)
        elif kind == "property" and value is None:
            if "hubsync.finding" in issue.properties:
                self.world.delete_property(issue.key, "hubsync.finding", self.bot)
        elif kind == "property":
            self.world.set_property(issue.key, "hubsync.finding", value, self.bot)
        elif kind == "transition":
            transitions = self.world.transitions(issue.key)
            if transitions:
                self.world.transition_issue(issue.key, transitions[value % len(transitions)].id, self.bot)
        elif kind == "comment":
            self.world.add_comment(issue.key, adf.document("c"), self.bot)
        elif kind == "delete":
            self.world.delete_issue(issue.key, self.bot)


finding_values = st.one_of(
    st.none(),
    st.fixed_dictionaries({"id": st.sampled_from(FINDINGS), "tags": st.lists(st.sampled_from(FINDINGS), max_size=2)}),
    st.fixed_dictionaries({"key": st.sampled_from(FINDINGS)}),
)
label_lists = st.lists(st.sampled_from(LABELS), unique=True, max_size=2)
changes = st.one_of(
    st.tuples(st.just("create"), st.just(0),
              st.tuples(st.sampled_from(("SEC", "OPS")), label_lists, finding_values)),
    st.tuples(st.just("labels"), st.integers(0, 50), label_lists),
    st.tuples(st.just("property"), st.integers(0, 50), finding_values),
    st.tuples(st.just("transition"), st.integers(0, 50), st.integers(0, 5)),
    st.tuples(st.just("comment"), st.integers(0, 50), st.none()),
    st.tuples(st.just("delete"), st.integers(0, 50), st.none()),
)


# -- random queries -------------------------------------------------------------------------------------------------


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f'"{value}"' for value in values)


def _clause(field: str, values: st.SearchStrategy[str], *, empty: bool = True) -> st.SearchStrategy[str]:
    lists = st.lists(values, min_size=1, max_size=3).map(tuple)
    options = [
        st.tuples(st.sampled_from(("=", "!=")), values).map(lambda op_value: f'{field} {op_value[0]} "{op_value[1]}"'),
        st.tuples(st.sampled_from(("in", "not in")), lists).map(lambda op_values: f"{field} {op_values[0]} "
                                                                                   f"({_quoted(op_values[1])})"),
    ]
    if empty:
        options.append(st.sampled_from((f"{field} is EMPTY", f"{field} is not EMPTY")))
    return st.one_of(options)


def conditions(keys: list[str]) -> st.SearchStrategy[str]:
    leaves = [
        _clause("labels", st.sampled_from(LABELS)),
        _clause("project", st.sampled_from(PROJECTS), empty=False),
        _clause("status", st.sampled_from(STATUSES), empty=False),
        _clause("issue.property[hubsync.finding].id", st.sampled_from(FINDINGS)),
        _clause("issue.property[hubsync.finding].tags", st.sampled_from(FINDINGS)),
        _clause("issue.property[hubsync.finding].key", st.sampled_from(FINDINGS)),
        _clause("priority", st.sampled_from(("Medium", "High")), empty=False),
        st.sampled_from(("updated >= -1d", "created < -2d")),
    ]
    if keys:
        leaves.append(_clause("key", st.sampled_from(keys), empty=False))
    return st.recursive(
        st.one_of(leaves),
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda parts: "(" + " AND ".join(parts) + ")"),
            st.lists(inner, min_size=2, max_size=3).map(lambda parts: "(" + " OR ".join(parts) + ")"),
            inner.map(lambda part: f"NOT {part}"),
        ),
        max_leaves=5,
    )


# Asked after every change too: each kind of change alters what one of them finds or its order.
EVERY_INDEX = (
    "issue.property[hubsync.finding].id IS NOT EMPTY ORDER BY key",
    'issue.property[hubsync.finding].key in ("f1", "f2") OR issue.property[hubsync.finding].tags = "f3"',
    'labels in ("a", "b") ORDER BY updated DESC',
    'project = SEC AND status != Open ORDER BY created ASC',
    'status in ("To Do", "Done") OR labels is EMPTY',
)
ORDERS = ("", " ORDER BY key ASC", " ORDER BY created ASC", " ORDER BY updated DESC",
          " ORDER BY priority DESC, key DESC", " ORDER BY status")


@settings(max_examples=60, deadline=None)
@given(data=st.data(), steps=st.lists(changes, min_size=1, max_size=12))
def test_an_indexed_search_finds_what_a_scan_finds(data: st.DataObject, steps: list[tuple]) -> None:
    """After each change, a new query and every earlier one (whose remembered result the change may have made
    stale)."""
    site = Site()
    queries = list(EVERY_INDEX)
    for change in steps:
        site.apply(change)
        queries.append(data.draw(conditions(list(site.world.issues))) + data.draw(st.sampled_from(ORDERS)))
        for text in queries:
            try:
                found = site.world.search_keys(text)
            except jql.JqlError as refused:  # it names an issue deleted since
                assert "does not exist for field 'key'" in str(refused)
                continue
            assert found == scanned(site.world, text), text


def test_a_remembered_result_is_forgotten_on_any_change() -> None:
    """Each query is asked (and its result remembered) right before each change, then again after it."""
    site = Site()
    for labels in (["a"], ["b"], ["a"]):
        site.apply(("create", 0, ("SEC", labels, {"key": "f1"})))
    queries = {
        "by label": 'labels = "a" ORDER BY key',
        "linked": "project = SEC AND issue.property[hubsync.finding].key IS NOT EMPTY ORDER BY updated DESC",
        "open": "project = SEC AND status = Open ORDER BY key",
    }

    def found() -> dict[str, list[str]]:
        return {name: site.world.search_keys(text) for name, text in queries.items()}

    def after(change: tuple[str, int, Any]) -> dict[str, list[str]]:
        before = found()
        assert before == found()  # now remembered
        site.apply(change)
        return found()

    assert found() == {"by label": ["SEC-1", "SEC-3"], "linked": ["SEC-3", "SEC-2", "SEC-1"],
                       "open": ["SEC-1", "SEC-2", "SEC-3"]}
    assert after(("labels", 1, ["a"]))["by label"] == ["SEC-1", "SEC-2", "SEC-3"]  # SEC-2
    assert after(("comment", 0, None))["linked"] == ["SEC-1", "SEC-2", "SEC-3"]  # SEC-1 updated last
    assert after(("property", 2, None))["linked"] == ["SEC-1", "SEC-2"]  # SEC-3 loses its marker
    assert after(("property", 2, {"key": "f2"}))["linked"] == ["SEC-1", "SEC-2", "SEC-3"]  # and gets one again
    assert after(("transition", 1, 0))["open"] == ["SEC-1", "SEC-3"]  # SEC-2 leaves Open
    assert after(("create", 0, ("SEC", ["a"], None)))["open"] == ["SEC-1", "SEC-3", "SEC-4"]
    assert after(("delete", 0, None)) == {"by label": ["SEC-2", "SEC-3", "SEC-4"], "linked": ["SEC-2", "SEC-3"],
                                          "open": ["SEC-3", "SEC-4"]}  # SEC-1

    world = site.world  # SEC switched to OPS's workflow, every status of its own mapped to To Do
    scheme = world.create_workflow_scheme("SEC simplified", "", world.projects["OPS"].workflow.name, {})
    to_do = {status.id: "10000" for status in world.projects["SEC"].workflow.statuses}
    found()
    world.switch_workflow_scheme("10000", scheme.id, {"10001": to_do, "10002": to_do}, site.bot)
    assert found()["open"] == []
