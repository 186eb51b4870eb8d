"""What both wire formats' parsers (`asff`, `ocsf`) do with a finding they are given: refuse what is not a JSON
object, load it with the format's schema (whose `post_load` makes the `Finding`), and turn the schema's errors into
one `InvalidFinding` naming every problem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError

from hubsync.domain.finding import Finding, InvalidFinding
from hubsync.domain.validation import validation_messages


def load_finding(schema: Schema, data: Mapping[str, Any]) -> Finding:
    if not isinstance(data, Mapping):
        raise InvalidFinding({"_schema": ["a finding must be a JSON object"]})
    try:
        finding: Finding = schema.load(data)
    except ValidationError as error:
        raise InvalidFinding(validation_messages(error)) from error
    return finding
