"""The OCSF findings of Security Hub V2, keyed by `metadata.uid`, apart from the ASFF store (the two generations'
records are independent in AWS too).

Pages are keyset-based like the ASFF store's: a position is the last finding's sort values and its sequence number,
so findings updated while a caller pages through are neither repeated nor skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hubsync_sandbox.securityhub.filters_v2 import values_at

Finding = dict[str, Any]
Position = list[Any]


@dataclass(frozen=True)
class SortField:
    field: str
    descending: bool


class OcsfStore:
    """Thread-safe storage of OCSF findings with filtered, sorted, keyset-paged reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_uid: dict[str, tuple[int, Finding]] = {}

    def get(self, uid: str) -> Finding | None:
        entry = self._by_uid.get(uid)
        return entry[1] if entry else None

    def find(self, account: str, finding_uid: str, product_uid: str) -> Finding | None:
        """The finding a FindingIdentifier names (account, provider id and V2 product)."""
        with self._lock:
            entries = list(self._by_uid.values())
        for _, finding in entries:
            if (finding["cloud"]["account"]["uid"], finding["finding_info"]["uid"],
                    finding["metadata"]["product"]["uid"]) == (account, finding_uid, product_uid):
                return finding
        return None

    def put(self, finding: Finding) -> None:
        """Insert or replace (keeping its place) the finding with this `metadata.uid`."""
        uid = finding["metadata"]["uid"]
        with self._lock:
            seq = self._by_uid[uid][0] if uid in self._by_uid else len(self._by_uid)
            self._by_uid[uid] = (seq, finding)

    def remove(self, uid: str) -> None:
        """Forget a finding (as if Security Hub had never ingested it, or deleted it after its retention)."""
        with self._lock:
            self._by_uid.pop(uid, None)

    def __len__(self) -> int:
        return len(self._by_uid)

    def page(
        self, include: Callable[[Mapping[str, Any]], bool], sort: list[SortField], max_results: int,
        after: Position | None,
    ) -> tuple[list[Finding], Position | None]:
        with self._lock:
            entries = sorted(self._by_uid.values(), key=lambda entry: entry[0])
        rows = [([*(_sort_value(finding, field.field) for field in sort), seq], finding)
                for seq, finding in entries if include(finding)]
        rows.sort(key=lambda row: _key(row[0], sort))
        if after is not None:
            cursor = _key(after, sort)
            rows = [row for row in rows if _key(row[0], sort) > cursor]
        chunk = rows[:max_results]
        more = len(rows) > max_results
        return [finding for _, finding in chunk], (chunk[-1][0] if more else None)


def _sort_value(finding: Mapping[str, Any], field: str) -> Any:
    """The first scalar at the path; numbers and strings are not mixed in one field of OCSF."""
    for value in values_at(finding, field):
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return value
    return None


def _key(position: Position, sort: list[SortField]) -> tuple[Any, ...]:
    """A total order: each sort value (absent last in either direction, descending by negation), then seq."""
    parts: list[Any] = []
    for value, field in zip(position, sort, strict=False):
        if value is None:
            parts.append((1, 0, ""))
        elif isinstance(value, int | float):
            parts.append((0, -value if field.descending else value, ""))
        else:
            parts.append((0, 0, _Reversed(value) if field.descending else value))
    parts.append(position[-1])
    return tuple(parts)


class _Reversed:
    """A string that sorts backwards, for descending text fields."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __lt__(self, other: _Reversed) -> bool:
        return self.text > other.text

    def __gt__(self, other: _Reversed) -> bool:
        return self.text < other.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)
