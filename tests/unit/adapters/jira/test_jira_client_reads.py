"""Reading tickets back: by key (deleted ones absent, just-created ones present), by marker label, and every
linked ticket of a project, page by page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from hubsync.adapters.jira import JiraClient
from hubsync.domain.finding import marker_label
from tests.fixtures.jira import JiraSandbox
from tests.unit.adapters.jira.conftest import draft, marker_for


def create(jira: JiraClient, *drafts: object) -> list[str]:
    keys = [created.key for created in jira.create_tickets(list(drafts))]  # type: ignore[arg-type]
    assert all(keys)
    return keys  # type: ignore[return-value]


def test_many_tickets_are_read_in_one_search(jira_any: JiraSandbox, client_of: Callable[..., JiraClient]) -> None:
    jira = client_of(jira_any)
    keys = create(jira, *(draft(number) for number in range(12)))

    tickets = jira.get_tickets(keys)

    assert list(tickets) == keys
    assert jira.request_counts["get_tickets"] == 1
    assert tickets[keys[4]].summary.endswith("finding 4")
    if jira_any.flavour == "cloud":  # Data Center's search cannot return issue properties; its labels still mark
        assert tickets[keys[4]].marker == marker_for(4)


def test_a_deleted_ticket_is_absent_and_the_others_still_come_back(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)
    keys = create(jira, *(draft(number) for number in range(5)))
    jira_any.session().delete(f"{jira_any.rest}/issue/{keys[2]}").raise_for_status()

    tickets = jira.get_tickets(keys)

    assert sorted(tickets) == sorted(keys[:2] + keys[3:])
    # Jira refuses the whole `key in (...)` search (400); each key is then read on its own.
    assert jira.request_counts["get_tickets"] == 1 + 5
    assert jira.get_tickets([keys[2]]) == {}


def test_a_ticket_search_does_not_show_yet_is_not_taken_for_deleted(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)
    jira_any.control("POST", "search-consistency", json={"delay_ms": 60_000})
    keys = create(jira, draft(1), draft(2))

    tickets = jira.get_tickets(keys)

    assert list(tickets) == keys  # read one by one after the search came back without them
    assert tickets[keys[1]].marker == marker_for(2)


def test_markers_find_their_tickets_in_batches_and_the_original_wins(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)
    keys = create(jira, *(draft(number) for number in range(5)))
    duplicate = create(jira, draft(3))[0]  # a second ticket for finding 3, made later
    labels = [marker_label(marker_for(number).key) for number in range(60)]  # 5..59 have no ticket

    found = jira.find_by_markers([*labels[5:], *labels[:5]])

    assert {label: ticket.key for label, ticket in found.items()} == {labels[n]: keys[n] for n in range(5)}
    assert found[labels[3]].key != duplicate
    assert jira.request_counts["find_by_markers"] == 2  # 50 labels a search


def test_linked_tickets_are_every_marked_ticket_of_the_project_page_by_page(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any, page_size=10)
    marked = create(jira, *(draft(number) for number in range(25)))
    create(jira, draft(500, marked=False), draft(501, project="OPS"))

    linked = jira.linked_tickets("SEC")
    first = next(linked)

    assert jira.request_counts["linked_tickets"] == 1  # one page at a time
    keys = [first.key, *(ticket.key for ticket in linked)]
    assert sorted(keys) == sorted(marked)
    assert jira.request_counts["linked_tickets"] == 3


def test_linked_tickets_may_be_chosen_by_a_label_the_policy_always_adds(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any, linked_jql="labels = security-hub")
    marked = create(jira, draft(1), draft(2))
    create(jira, draft(3, marked=False))  # the policy label alone does not make a ticket hubsync's

    assert [ticket.key for ticket in jira.linked_tickets("SEC")] == marked


def test_when_a_ticket_entered_its_status_is_known(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)
    [key] = create(jira, draft(1, project="OPS"))
    bot = jira_any.session()
    bot.post(f"{jira_any.rest}/issue/{key}/transitions", json={"transition": {"id": "31"}}).raise_for_status()

    ticket = jira.get_tickets([key])[key]

    assert (ticket.status, ticket.status_category.value) == ("Done", "done")
    entered = jira_any.world.issues[key].status_category_changed
    assert ticket.status_changed_at is not None
    assert abs(ticket.status_changed_at - entered) < timedelta(milliseconds=1)  # Jira shows milliseconds


def test_who_moved_a_ticket_into_its_status_is_known(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)
    [key] = create(jira, draft(1))
    world = jira_any.world
    sofia = world.user_by_email("sofia.security@example.com")
    assert sofia is not None
    for transition in ("101", "121"):  # Request risk acceptance, then Sofia approves it
        world.transition_issue(key, transition, sofia)

    [by_search] = jira.find_by_markers([marker_label(marker_for(1).key)]).values()
    by_key = jira.get_tickets([key])[key]

    for ticket in (by_search, by_key):
        assert (ticket.status, ticket.status_changed_by) == ("Risk approved", "Sofia Security")
        assert ticket.status_changed_at is not None
        assert abs(ticket.status_changed_at - world.issues[key].updated) < timedelta(milliseconds=1)
