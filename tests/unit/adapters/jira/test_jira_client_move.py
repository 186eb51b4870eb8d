"""Moving tickets: the shortest walk through the project's own workflow to a status of the wanted disposition,
never stopping at a status that decides something else, with the comment on the last transition."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

import pytest

from hubsync.adapters.jira import JiraClient, TicketMoved
from hubsync.adapters.jira.documents import to_adf, to_wiki
from hubsync.domain.document import Document
from hubsync.domain.plan import MoveTicket
from hubsync.domain.policy import Policy
from hubsync.domain.ports import NoTransitionPath
from hubsync.domain.ticket import Disposition, Ticket
from hubsync_sandbox.jira.model import Issue, Transition
from tests.fixtures.jira import JiraSandbox
from tests.unit.adapters.jira.conftest import draft

POLICY = Policy("SEC")
RISK_WORKFLOW_OPEN_STATUSES = {"Open", "Allocated for fix", "Test fix", "Request risk acceptance",
                               "Marked as false positive", "Risk not approved"}


def status_moves(sandbox: JiraSandbox) -> dict[str, list[str]]:
    """The statuses each issue enters from now on, in order, as Jira's change events tell them."""
    moves: dict[str, list[str]] = defaultdict(list)

    def record(payload: dict) -> None:
        for item in (payload.get("changelog") or {}).get("items", []):
            if item["field"] == "status":
                moves[payload["issue"]["key"]].append(item["toString"])

    sandbox.world.listeners.append(record)
    return moves


def new_ticket(jira: JiraClient, number: int, project: str = "SEC") -> str:
    [created] = jira.create_tickets([draft(number, project=project)])
    assert created.key is not None
    return created.key


def current(jira: JiraClient, key: str) -> Ticket:
    """The ticket as the sync reads it before deciding to move it."""
    return jira.get_tickets([key])[key]


def put_in(sandbox: JiraSandbox, key: str, *transition_ids: str) -> None:
    """Someone moves a ticket by hand."""
    bot = sandbox.session()
    for transition_id in transition_ids:
        bot.post(f"{sandbox.rest}/issue/{key}/transitions", json={"transition": {"id": transition_id}}
                 ).raise_for_status()


def last_comment(sandbox: JiraSandbox, key: str) -> object:
    comments = sandbox.world.issues[key].comments
    return comments[-1].body if comments else None


def as_jira_shows(sandbox: JiraSandbox, text: str) -> object:
    document = Document.paragraph(text)
    return to_adf(document) if sandbox.flavour == "cloud" else to_wiki(document)


@pytest.mark.parametrize(
    ("disposition", "walk"),
    [
        (Disposition.FIXED, ["Allocated for fix", "Test fix", "Resolved"]),
        (Disposition.ACCEPTED, ["Request risk acceptance", "Risk approved"]),
        (Disposition.FALSE_POSITIVE, ["Marked as false positive", "Accepted false positive"]),
    ],
)
def test_a_project_in_use_shows_the_shortest_walk_without_moving_anything_else(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient], disposition: Disposition, walk: list[str]
) -> None:
    jira = client_of(jira_any)
    others = {new_ticket(jira, n): ids for n, ids in enumerate([("81",), ("81", "51"), ("101",), ("11",)])}
    for key, ids in others.items():
        put_in(jira_any, key, *ids)
    parked = {key: jira_any.world.issues[key].status.name for key in others}
    key = new_ticket(jira, 9)
    moves = status_moves(jira_any)

    jira.move(current(jira, key), MoveTicket(disposition=disposition, comment="Decided in Security Hub."),
              POLICY.disposition_of_status)

    assert moves == {key: walk}
    assert POLICY.disposition_of(current(jira, key)) is disposition
    assert {k: jira_any.world.issues[k].status.name for k in others} == parked
    assert last_comment(jira_any, key) == as_jira_shows(jira_any, "Decided in Security Hub.")
    assert len(jira_any.world.issues[key].comments) == 1


def test_on_a_new_project_the_first_walk_explores_only_through_undecided_statuses_and_the_next_is_shortest(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)
    first, second = new_ticket(jira, 1), new_ticket(jira, 2)
    moves = status_moves(jira_any)
    close = MoveTicket(disposition=Disposition.FIXED, comment="Archived in Security Hub.")

    jira.move(current(jira, first), close, POLICY.disposition_of_status)
    second_ticket = current(jira, second)
    before = jira.request_counts["move"]
    jira.move(second_ticket, close, POLICY.disposition_of_status)

    assert moves[first][-1] == "Resolved"
    assert set(moves[first][:-1]) <= RISK_WORKFLOW_OPEN_STATUSES
    assert moves[second] == ["Allocated for fix", "Test fix", "Resolved"]
    assert jira.request_counts["move"] - before == 3  # three transitions: the sync's own read is all it needs
    assert last_comment(jira_any, first) == as_jira_shows(jira_any, "Archived in Security Hub.")


def test_a_named_status_wins_over_the_disposition(jira_any: JiraSandbox, client_of: Callable[..., JiraClient]) -> None:
    jira = client_of(jira_any)
    key = new_ticket(jira, 1)
    moves = status_moves(jira_any)

    jira.move(current(jira, key), MoveTicket(status="request RISK acceptance", comment="Suppressed in the console."),
              POLICY.disposition_of_status)

    assert moves == {key: ["Request risk acceptance"]}


def test_a_stock_workflow_is_closed_to_done(jira_any: JiraSandbox, client_of: Callable[..., JiraClient]) -> None:
    jira = client_of(jira_any)
    key = new_ticket(jira, 1, project="OPS")
    moves = status_moves(jira_any)

    jira.move(current(jira, key), MoveTicket(disposition=Disposition.FIXED, comment="Passed in Security Hub."),
              Policy("OPS").disposition_of_status)

    assert moves == {key: ["Done"]}
    ticket = current(jira, key)
    assert (ticket.status, ticket.status_category.value) == ("Done", "done")
    assert last_comment(jira_any, key) == as_jira_shows(jira_any, "Passed in Security Hub.")


def test_a_ticket_already_there_only_gets_the_comment(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)
    key = new_ticket(jira, 1, project="OPS")
    put_in(jira_any, key, "31")
    moves = status_moves(jira_any)

    jira.move(current(jira, key), MoveTicket(disposition=Disposition.FIXED, comment="Still fixed."),
              Policy("OPS").disposition_of_status)

    assert current(jira, key).status == "Done"
    assert not moves
    assert last_comment(jira_any, key) == as_jira_shows(jira_any, "Still fixed.")


def test_a_workflow_without_such_a_status_raises_and_moves_nothing(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)
    key = new_ticket(jira, 1, project="OPS")
    moves = status_moves(jira_any)

    with pytest.raises(NoTransitionPath, match="OPS has no status meaning ACCEPTED"):
        jira.move(current(jira, key), MoveTicket(disposition=Disposition.ACCEPTED), Policy("OPS").disposition_of_status)

    assert not moves
    assert jira_any.world.issues[key].status.name == "To Do"


def test_a_workflow_changed_by_an_admin_is_learned_again(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)
    first, second = new_ticket(jira, 1), new_ticket(jira, 2)
    close = MoveTicket(disposition=Disposition.FIXED)
    jira.move(current(jira, first), close, POLICY.disposition_of_status)
    # The admin drops "Mark for testing" and lets developers resolve straight from "Allocated for fix".
    project = jira_any.world.projects["SEC"]
    steps = {t.id: t for t in project.workflow.transitions}
    resolve = Transition("201", "Resolve", steps["61"].to, steps["51"].sources, steps["61"].screen_fields)
    transitions = (*(t for t in project.workflow.transitions if t.id != "51"), resolve)
    project.workflow = replace(project.workflow, transitions=transitions)
    moves = status_moves(jira_any)

    jira.move(current(jira, second), close, POLICY.disposition_of_status)
    assert moves == {second: ["Allocated for fix", "Resolved"]}


@pytest.mark.parametrize("workflow_known", [False, True], ids=["learning the workflow", "workflow known"])
def test_a_ticket_moved_by_someone_since_it_was_read_is_left_to_the_next_sync_not_walked_blindly(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient], workflow_known: bool
) -> None:
    jira = client_of(jira_any)
    if workflow_known:
        jira.move(current(jira, new_ticket(jira, 2)), MoveTicket(disposition=Disposition.FIXED),
                  POLICY.disposition_of_status)
    key = new_ticket(jira, 1)
    read_before = current(jira, key)
    put_in(jira_any, key, "101")  # a security engineer requests risk acceptance meanwhile
    moves = status_moves(jira_any)

    with pytest.raises(TicketMoved, match=f"{key} changed status since it was read"):
        jira.move(read_before, MoveTicket(disposition=Disposition.FIXED), POLICY.disposition_of_status)

    assert not moves
    assert jira_any.world.issues[key].status.name == "Request risk acceptance"


def test_what_is_learned_from_another_issue_is_what_its_status_offers_when_read(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While hubsync learns a workflow from an issue its search found in some status, a person moves that issue
    on: its transitions are those of its new status, never learned as the old one's (which once left the walk
    with no way out, and the ticket in 'Risk not approved' with a comment saying it could not be closed)."""
    jira = client_of(jira_any)
    other = new_ticket(jira, 1)
    put_in(jira_any, other, "81", "51")  # Test fix: the walk will want to learn that status from it
    key = new_ticket(jira, 2)
    world = jira_any.world
    get_issue = world.get_issue

    def resolved_just_before_it_is_read(key_or_id: str) -> Issue:
        if key_or_id == other and world.issues[other].status.name == "Test fix":
            monkeypatch.setattr(world, "get_issue", get_issue)
            world.transition_issue(other, "61", world.user_by_email("sofia.security@example.com"))
        return get_issue(key_or_id)

    monkeypatch.setattr(world, "get_issue", resolved_just_before_it_is_read)
    moves = status_moves(jira_any)

    jira.move(current(jira, key), MoveTicket(disposition=Disposition.FIXED, comment="Archived in Security Hub."),
              POLICY.disposition_of_status)

    assert world.issues[other].status.name == "Resolved"  # the race happened
    assert moves[key][-1] == "Resolved"
    assert last_comment(jira_any, key) == as_jira_shows(jira_any, "Archived in Security Hub.")


def test_a_way_an_admin_opened_since_the_workflow_was_learned_is_found(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    """What the walker knows of a workflow is kept between walks; when it knows no way, it learns it afresh once
    before saying there is none."""
    jira = client_of(jira_any)
    first, second = new_ticket(jira, 1), new_ticket(jira, 2)
    project = jira_any.world.projects["SEC"]
    workflow = project.workflow
    project.workflow = replace(workflow, transitions=tuple(t for t in workflow.transitions if t.id != "61"))
    close = MoveTicket(disposition=Disposition.FIXED)
    with pytest.raises(NoTransitionPath):  # "Mark as resolved" is gone: no way to Resolved
        jira.move(current(jira, first), close, POLICY.disposition_of_status)
    project.workflow = workflow  # the admin puts it back
    moves = status_moves(jira_any)

    jira.move(current(jira, second), close, POLICY.disposition_of_status)

    assert moves[second][-1] == "Resolved"
