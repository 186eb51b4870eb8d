"""JSON from outside (request bodies, queue messages) with bounded nesting.

Python's parser recurses once per nested array or object and gives up with a `RecursionError` near the
interpreter's limit; a body nested just under that limit parses, and then any code that walks it (a schema, a
serializer, a log line) can hit the limit instead. No payload hubsync takes (Security Hub's events, Jira's webhooks
and lifecycle callbacks, the configure page's settings) nests beyond a dozen levels, so anything past `MAX_DEPTH`
is refused at the door, as the `ValueError` every caller already treats as "not JSON".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 100  # arrays and objects inside one another


class JsonTooDeep(ValueError):
    """The JSON nests arrays and objects deeper than `MAX_DEPTH`."""

    def __init__(self) -> None:
        super().__init__(f"JSON nested deeper than {MAX_DEPTH} levels")


def load_json(raw: str | bytes | bytearray, loads: Callable[..., Any] = json.loads, **options: Any) -> Any:
    """`loads(raw)`, refused with `JsonTooDeep` when nested past `MAX_DEPTH` (a `ValueError`, as malformed JSON
    is). `loads` lets a caller keep its own decoder options (Flask's JSON provider)."""
    try:
        value = loads(raw, **options)
    except RecursionError:
        raise JsonTooDeep() from None
    if not within_depth(value):
        raise JsonTooDeep()
    return value


def within_depth(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether no array or object in `value` sits inside `limit` others; walked without recursion."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True
