"""The risk workflow, defined once: a workflow a Jira admin can use as it is (every status reachable, a way back
from each), and the policy's defaults read from it."""

from __future__ import annotations

from collections import deque

from hubsync.domain import risk_workflow as risk
from hubsync.domain.policy import Policy
from hubsync.domain.ticket import Disposition, StatusCategory


def _reachable(start: str) -> set[str]:
    seen, todo = {start}, deque([start])
    while todo:
        here = todo.popleft()
        for move in risk.TRANSITIONS:
            if move.source == here and move.target not in seen:
                seen.add(move.target)
                todo.append(move.target)
    return seen


def test_every_transition_joins_two_of_its_statuses_and_names_are_unique() -> None:
    keys = {status.key for status in risk.STATUSES}
    assert len(keys) == len(risk.STATUSES) and risk.INITIAL in keys
    assert len({status.name.lower() for status in risk.STATUSES}) == len(risk.STATUSES)
    assert all(move.source in keys and move.target in keys for move in risk.TRANSITIONS)
    assert len({(move.source, move.target) for move in risk.TRANSITIONS}) == len(risk.TRANSITIONS)


def test_every_status_is_reachable_from_open_and_every_other_has_a_way_back() -> None:
    assert _reachable(risk.INITIAL) == {status.key for status in risk.STATUSES}
    for status in risk.STATUSES:
        assert risk.INITIAL in _reachable(status.key) or status.key == risk.INITIAL, status.name


def test_each_decision_a_ticket_can_carry_has_its_status() -> None:
    dispositions = {status.disposition for status in risk.STATUSES}
    assert {Disposition.FIXED, Disposition.ACCEPTED, Disposition.FALSE_POSITIVE, Disposition.EXPIRED} <= dispositions
    assert risk.status(risk.INITIAL).category is StatusCategory.TO_DO
    assert all(status.category is StatusCategory.DONE for status in risk.STATUSES
               if status.disposition in (Disposition.FIXED, Disposition.ACCEPTED, Disposition.FALSE_POSITIVE))


def test_the_policys_defaults_are_the_workflows() -> None:
    policy = Policy(project_key="SEC")
    for status in risk.STATUSES:
        assert policy.disposition_of_status(status.name, status.category) is status.disposition, status.name
    assert policy.risk_request_status == risk.status("request").name
