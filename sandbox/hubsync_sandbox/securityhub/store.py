"""The findings of every account and Region, keyed by (ProductArn, Id), in the order they were first imported.

Pages are keyset-based: a page ends at a position (the last finding's sort values and sequence number) and the
next page starts after it, so findings updated or added while a caller pages through are neither repeated nor
skipped. Sorted results are cached per query until the next write, which keeps paging through 10,000 findings
cheap.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hubsync_sandbox.securityhub.filters import SortCriterion, compare, sort_values

Finding = dict[str, Any]
Position = list[Any]  # sort values followed by the sequence number


@dataclass
class StoredFinding:
    """One finding; `finding` is replaced (never mutated) on every change."""

    seq: int
    finding: Finding
    customer_set: frozenset[str] = field(default_factory=frozenset)


class FindingStore:
    """Thread-safe storage with filtered, sorted, keyset-paged reads."""

    def __init__(self, cached_queries: int = 8) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], StoredFinding] = {}
        self._ordered: list[StoredFinding] = []
        self._version = 0
        self._cache: OrderedDict[tuple[str, int], list[tuple[Position, Finding]]] = OrderedDict()
        self._cached_queries = cached_queries

    def get(self, product_arn: str, finding_id: str) -> StoredFinding | None:
        return self._by_key.get((product_arn, finding_id))

    def snapshot(self) -> list[Finding]:
        """Every finding, in import order, as it is now."""
        with self._lock:
            return [record.finding for record in self._ordered]

    def put(self, finding: Finding, customer_set: frozenset[str] | None = None) -> StoredFinding:
        """Insert a new finding or replace the one with the same (ProductArn, Id), keeping its place."""
        key = (finding["ProductArn"], finding["Id"])
        with self._lock:
            stored = self._by_key.get(key)
            if stored is None:
                stored = StoredFinding(len(self._ordered), finding, customer_set or frozenset())
                self._by_key[key] = stored
                self._ordered.append(stored)
            else:
                stored.finding = finding
                if customer_set is not None:
                    stored.customer_set = customer_set
            self._version += 1
            self._cache.clear()
        return stored

    def page(
        self,
        include: Callable[[Mapping[str, Any]], bool],
        criteria: list[SortCriterion],
        max_results: int,
        after: Position | None,
        query: str,
    ) -> tuple[list[Finding], Position | None]:
        """Up to `max_results` findings passing `include`, after `after`; and the position to continue from."""
        if not criteria:
            return self._page_in_import_order(include, max_results, after)
        ordered = self._sorted(include, criteria, query)
        start = 0 if after is None else _first_after(ordered, after, criteria)
        chunk = ordered[start : start + max_results + 1]
        more = len(chunk) > max_results
        chunk = chunk[:max_results]
        return [finding for _, finding in chunk], (chunk[-1][0] if more else None)

    def _page_in_import_order(
        self, include: Callable[[Mapping[str, Any]], bool], max_results: int, after: Position | None
    ) -> tuple[list[Finding], Position | None]:
        with self._lock:
            records = self._ordered
            end = len(records)
        start = after[-1] + 1 if after else 0
        found: list[tuple[int, Finding]] = []
        for index in range(start, end):
            finding = records[index].finding
            if include(finding):
                if len(found) == max_results:
                    return [f for _, f in found], [found[-1][0]]
                found.append((index, finding))
        return [f for _, f in found], None

    def _sorted(
        self, include: Callable[[Mapping[str, Any]], bool], criteria: list[SortCriterion], query: str
    ) -> list[tuple[Position, Finding]]:
        with self._lock:
            cache_key = (query, self._version)
            cached = self._cache.get(cache_key)
            records = list(self._ordered)
        if cached is not None:
            return cached
        rows = []
        for record in records:
            finding = record.finding
            if include(finding):
                rows.append(([*sort_values(finding, criteria), record.seq], finding))
        # Stable sorts from the last criterion to the first; absent values last in either direction.
        for index in reversed(range(len(criteria))):
            descending = criteria[index].descending

            def key(row: tuple[Position, Finding], i: int = index, desc: bool = descending) -> tuple[Any, ...]:
                value = row[0][i]
                if value is None:
                    return (0,) if desc else (1,)
                return (1, value) if desc else (0, value)

            rows.sort(key=key, reverse=descending)
        with self._lock:
            if self._version == cache_key[1]:
                self._cache[cache_key] = rows
                while len(self._cache) > self._cached_queries:
                    self._cache.popitem(last=False)
        return rows


def _first_after(rows: list[tuple[Position, Finding]], after: Position, criteria: list[SortCriterion]) -> int:
    """Binary search for the first row ordered after `after` (ties broken by sequence number)."""

    def order(position: Position) -> int:
        by_values = compare(position[:-1], after[:-1], criteria)
        return by_values or (position[-1] > after[-1]) - (position[-1] < after[-1])

    low, high = 0, len(rows)
    while low < high:
        middle = (low + high) // 2
        if order(rows[middle][0]) <= 0:
            low = middle + 1
        else:
            high = middle
    return low
