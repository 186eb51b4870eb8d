"""The Jira simulator's search index: which issues carry each name of the fields selective JQL clauses name, and
each query's ordered result until the next change, so that a search costs the same on a site of 1,000 issues as
on one of 50,000 (as Jira's own index makes it) and a benchmark of hubsync measures hubsync, not the simulator.

The index only narrows: `candidates` is a superset of what a condition matches (None: every issue), and the world
still evaluates the condition on each candidate, so what a search returns is exactly what a scan would return.
The world calls `put` after every change to an issue and `remove` when it is deleted, under its lock; both forget
every remembered result.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from collections.abc import Set as AbstractSet
from typing import Generic, TypeVar

from hubsync_sandbox.jira import jql

# The named fields hubsync's searches select by (`key in`, `labels in`, `project =`) and status; properties are
# indexed by each `issue.property[key].path` a query has named, from its first search on.
INDEXED_FIELDS: tuple[jql.FieldRef, ...] = ("key", "labels", "project", "status")
REMEMBERED_RESULTS = 32  # a paged search reads its result again for every page

T = TypeVar("T")


class SearchIndex(Generic[T]):
    """Postings (field -> lower-case name -> issue ids) of the issues the world `put`, as their `jql.Subject`s
    present them, and remembered results (by a key the world chooses)."""

    def __init__(self) -> None:
        # field -> name -> the ids of the issues with it: one id alone as a string (most names, e.g. a key or a
        # marker label, belong to one issue: a set each would double the simulator's memory)
        self._postings: dict[jql.FieldRef, dict[str, str | set[str]]] = {field: {} for field in INDEXED_FIELDS}
        self._present: dict[jql.FieldRef, set[str]] = {field: set() for field in INDEXED_FIELDS}  # any value
        self._posted: dict[str, dict[jql.FieldRef, tuple[str, ...]]] = {}  # issue id -> field -> its names
        self._subjects: dict[str, jql.Subject] = {}
        self._results: dict[Hashable, T] = {}

    def put(self, issue_id: str, subject: jql.Subject) -> None:
        """Index an issue as it is now (new, or changed in any way)."""
        self._subjects[issue_id] = subject
        posted = self._posted.setdefault(issue_id, {})
        for field in self._postings:
            self._post(issue_id, field, subject, posted)
        self._results.clear()

    def remove(self, issue_id: str) -> None:
        for field, names in self._posted.pop(issue_id, {}).items():
            self._unpost(issue_id, field, names)
        for present in self._present.values():
            present.discard(issue_id)
        self._subjects.pop(issue_id, None)
        self._results.clear()

    def candidates(self, node: jql.Node | None, context: jql.Context) -> AbstractSet[str] | None:
        """The ids of the issues `node` may match (a superset; not to be changed), or None when no index narrows
        it."""
        for clause in jql.clauses(node):
            if isinstance(clause.field, jql.PropertyRef):
                self._watch(clause.field)
        return self._candidates(node, context)

    def result(self, key: Hashable) -> T | None:
        return self._results.get(key)

    def remember(self, key: Hashable, result: T) -> None:
        if len(self._results) >= REMEMBERED_RESULTS:
            del self._results[next(iter(self._results))]
        self._results[key] = result

    def _candidates(self, node: jql.Node | None, context: jql.Context) -> AbstractSet[str] | None:
        if isinstance(node, jql.Clause):
            return self._clause_candidates(node, context)
        if isinstance(node, jql.And):
            narrowed = [found for found in (self._candidates(part, context) for part in node.parts)
                        if found is not None]
            if not narrowed:
                return None
            smallest, *others = sorted(narrowed, key=len)
            return {issue_id for issue_id in smallest if all(issue_id in other for other in others)}
        if isinstance(node, jql.Or):
            each = [self._candidates(part, context) for part in node.parts]
            if any(found is None for found in each):
                return None
            return set().union(*each)  # type: ignore[arg-type]
        return None  # NOT, or no condition

    def _clause_candidates(self, clause: jql.Clause, context: jql.Context) -> AbstractSet[str] | None:
        postings = self._postings.get(clause.field)
        if postings is None:
            return None
        if clause.operand is jql.EMPTY:
            # IS EMPTY (= EMPTY) matches what has no value: no index for that. IS NOT EMPTY: what has one.
            return self._present[clause.field] if clause.operator in ("!=", "is not") else None
        if clause.operator in ("=", "in"):
            found: set[str] = set()
            for name in jql.wanted_names(clause.operand, context):
                ids = postings.get(name, ())
                found.update((ids,) if isinstance(ids, str) else ids)
            return found
        return self._present[clause.field]  # != and NOT IN never match a field without a value

    def _watch(self, ref: jql.PropertyRef) -> None:
        """Index a property path from now on (built once; `put` keeps it up to date)."""
        if ref in self._postings:
            return
        self._postings[ref], self._present[ref] = {}, set()
        for issue_id, subject in self._subjects.items():
            self._post(issue_id, ref, subject, self._posted[issue_id])

    def _post(self, issue_id: str, field: jql.FieldRef, subject: jql.Subject,
              posted: dict[jql.FieldRef, tuple[str, ...]]) -> None:
        values = subject.names(field)
        names = {name for value in values for name in value}  # a clause hits the issue through any one of them
        before = set(posted.get(field, ()))
        if names != before:
            self._unpost(issue_id, field, before - names)
            postings = self._postings[field]
            for name in names - before:
                ids = postings.setdefault(name, issue_id)
                if isinstance(ids, set):
                    ids.add(issue_id)
                elif ids != issue_id:
                    postings[name] = {ids, issue_id}
            if names:
                posted[field] = tuple(names)
            else:
                del posted[field]
        if values:
            self._present[field].add(issue_id)
        else:
            self._present[field].discard(issue_id)

    def _unpost(self, issue_id: str, field: jql.FieldRef, names: Iterable[str]) -> None:
        postings = self._postings[field]
        for name in names:
            ids = postings[name]
            if isinstance(ids, set):
                ids.discard(issue_id)
            if isinstance(ids, str) or not ids:
                del postings[name]
