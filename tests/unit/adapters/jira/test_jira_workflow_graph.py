"""The learned workflow graph: shortest ways that stop only where it is safe, and what is left to explore."""

from __future__ import annotations

from hubsync.adapters.jira.workflow import Status, Step, WorkflowGraph
from hubsync.domain.ticket import StatusCategory

OPEN = Status("1", "Open", StatusCategory.TO_DO)
DOING = Status("2", "Doing", StatusCategory.IN_PROGRESS)
ACCEPTED = Status("3", "Accepted", StatusCategory.DONE)
DONE = Status("4", "Done", StatusCategory.DONE)
REVIEW = Status("5", "Review", StatusCategory.IN_PROGRESS)


def graph() -> WorkflowGraph:
    learned = WorkflowGraph({s.id: s for s in (OPEN, DOING, ACCEPTED, DONE, REVIEW)})
    learned.learn(OPEN.id, [Step("11", "Accept", ACCEPTED), Step("21", "Start", DOING)])
    learned.learn(ACCEPTED.id, [Step("31", "Close", DONE)])
    learned.learn(DOING.id, [Step("41", "Review", REVIEW), Step("51", "Open", OPEN)])
    return learned


def test_the_way_never_stops_at_a_status_outside_the_safe_ones() -> None:
    safe = {OPEN.id, DOING.id, REVIEW.id}

    assert graph().path(OPEN.id, {DONE.id}, through=safe) is None  # only via Accepted, which decides
    way = graph().path(OPEN.id, {DONE.id}, through=safe | {ACCEPTED.id})
    assert [step.transition_id for step in way or []] == ["11", "31"]
    assert graph().path(DONE.id, {DONE.id}, through=safe) == []


def test_what_is_left_to_explore_is_listed_nearest_first() -> None:
    learned = graph()
    safe = {OPEN.id, DOING.id, REVIEW.id}

    assert [(status, [s.transition_id for s in way]) for status, way in learned.frontier(OPEN.id, safe)] == [
        (REVIEW.id, ["21", "41"])
    ]
    learned.forget(DOING.id)
    assert [status for status, _ in learned.frontier(OPEN.id, safe)] == [DOING.id]
