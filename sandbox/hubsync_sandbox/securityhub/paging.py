"""Opaque NextToken values: where the previous page ended, bound to the query that produced it.

A token is base64url JSON `{"q": <query fingerprint>, "at": <position>}`. A token from another query, or
one that does not decode, is an InvalidInputException, as Security Hub answers a bad NextToken.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from hubsync_sandbox.securityhub.errors import invalid_input


def fingerprint(*parts: Any) -> str:
    """A short digest identifying a query (its filters, order and who asks)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode(query: str, position: Any) -> str:
    payload = json.dumps({"q": query, "at": position}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode(token: Any, query: str) -> Any:
    """The position stored in `token`; InvalidInputException if it is malformed or from another query."""
    if not isinstance(token, str) or not token:
        raise invalid_input("NextToken is invalid")
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid_input("NextToken is invalid") from None
    if not isinstance(payload, dict) or "at" not in payload:
        raise invalid_input("NextToken is invalid")
    if payload.get("q") != query:
        raise invalid_input("NextToken does not belong to this request: repeat the first request's parameters")
    return payload["at"]
