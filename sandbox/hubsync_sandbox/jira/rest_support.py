"""What every REST handler of the Jira simulator needs: the caller, the JSON body, query parameters, replies."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, g, request

from hubsync_sandbox.jira.world import JiraError, User


def caller() -> User:
    """The authenticated user of this request (set by the blueprint's auth hook)."""
    return g.jira_user


def reply(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def no_content() -> Response:
    return Response(status=204)


def error_reply(error: JiraError) -> Response:
    return reply(error.body(), error.status)


def json_body() -> Any:
    """The request's JSON, or a 400 worded as Jira's JSON parser words it."""
    raw = request.get_data(as_text=True)
    if not raw.strip():
        raise JiraError(400, ["No content to map to Object due to end of input"])
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise JiraError(400, [f"Unexpected character at line {exc.lineno} column {exc.colno}: {exc.msg}"]) from None


def json_object() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise JiraError(400, ["Can not deserialize instance out of START_ARRAY token: a JSON object is required"])
    return body


def int_arg(name: str, default: int, *, minimum: int = 0) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise JiraError(400, [f"The value '{raw}' of the parameter '{name}' is not a valid integer."]) from None
    return max(value, minimum)


def bool_arg(name: str, default: bool = False) -> bool:
    raw = request.args.get(name)
    return default if raw is None else raw.lower() == "true"


def list_arg(name: str) -> list[str] | None:
    """A parameter given repeatedly and/or comma-separated; None when absent."""
    values = request.args.getlist(name)
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]
