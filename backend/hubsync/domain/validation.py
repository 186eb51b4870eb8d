"""Validation messages as a person reads them: marshmallow's nested error dicts as `path: message` lines, or as
{field path: [message]} for a form. Used by every schema hubsync loads (the policy, the settings, events, and the
wire formats its adapters read), and by the web app's answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import ValidationError

ACCOUNT_ID = re.compile(r"^\d{12}$")


def validation_messages(error: ValidationError) -> dict[str, Any]:
    """`error.normalized_messages()`, typed: marshmallow leaves that method unannotated (it returns a dict, the
    messages keyed by field name, or by `_schema`)."""
    normalized: Callable[[], dict[str, Any]] = error.normalized_messages
    return normalized()


def error_lines(messages: Mapping[Any, Any], path: str = "") -> list[str]:
    """Marshmallow's nested error dict as `path: message` lines, e.g. `rules[2].account_ids[0]: ...`."""
    return [f"{where}: {text}" if where else text for where, texts in field_errors(messages, path).items()
            for text in texts]


def field_errors(messages: Mapping[Any, Any], path: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages as {field path: [message]}, e.g. `policy.rules[2].account_ids[0]`; a `_schema`
    message belongs to the path it is nested in (a form shows each next to its field)."""
    found: dict[str, list[str]] = {}
    for key, value in messages.items():
        if key == "_schema":
            where = path
        elif isinstance(key, int):
            where = f"{path}[{key}]"
        else:
            where = f"{path}.{key}" if path else str(key)
        if isinstance(value, Mapping):
            for inner, texts in field_errors(value, where).items():
                found.setdefault(inner, []).extend(texts)
        else:
            found.setdefault(where, []).extend(str(text) for text in (value if isinstance(value, list) else [value]))
    return found
