"""What hubsync has learned of a project's workflow, and the shortest way through it.

Neither Jira flavour lets an ordinary REST client read a workflow's transitions (Data Center has no such API;
Cloud's needs admin rights), but both list the transitions available to an issue in its current status. So the
graph is learned one status at a time — from the issue being moved, or from any other issue sitting in the
status — and kept per project and issue type. No status or transition name is known in advance.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from hubsync.domain.ticket import StatusCategory


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: StatusCategory


@dataclass(frozen=True)
class Step:
    """A transition: its id, its name, and the status it leads to."""

    transition_id: str
    name: str
    target: Status


@dataclass
class WorkflowGraph:
    """The statuses of one workflow and the transitions learned so far, by the status they start from."""

    statuses: dict[str, Status]  # by id: every status of the workflow, known from the start
    steps: dict[str, tuple[Step, ...]] = field(default_factory=dict)  # by source status id: what was learned

    def learn(self, source: str, steps: Iterable[Step]) -> None:
        learned = tuple(steps)
        self.steps[source] = learned
        for step in learned:
            self.statuses.setdefault(step.target.id, step.target)

    def forget(self, source: str) -> None:
        """What was learned about `source` proved wrong (a transition was refused): learn it again."""
        self.steps.pop(source, None)

    def knows(self, source: str) -> bool:
        return source in self.steps

    def path(self, source: str, targets: Collection[str], through: Collection[str]) -> list[Step] | None:
        """The shortest known way from `source` to any of `targets`, stopping only at statuses in `through` on
        the way; [] when already there, None when no known way exists."""
        if source in targets:
            return []
        return next((way for status, way in self._ways(source, through).items() if status in targets), None)

    def frontier(self, source: str, through: Collection[str]) -> list[tuple[str, list[Step]]]:
        """Statuses in `through` reachable by known transitions whose own transitions are not known yet, nearest
        first, each with the way there."""
        return [(status, way) for status, way in self._ways(source, through).items()
                if status in through and not self.knows(status)]

    def _ways(self, source: str, through: Collection[str]) -> dict[str, list[Step]]:
        """Breadth first from `source` over known transitions, continuing only from statuses in `through`: the
        shortest way to every status reached, nearest first."""
        ways: dict[str, list[Step]] = {source: []}
        queue = deque([source])
        while queue:
            status = queue.popleft()
            for step in self.steps.get(status, ()):
                target = step.target.id
                if target in ways:
                    continue
                ways[target] = [*ways[status], step]
                if target in through:
                    queue.append(target)
        del ways[source]
        return ways
