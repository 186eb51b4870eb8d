"""Every error the web app answers is JSON: `{"error": "what is wrong"}` with the right status (and `details`, one
`path: message` line per problem, as the domain writes them: `rules[2].name: ...`).

A database or queue that cannot be reached right now (PostgreSQL restarting, a dropped connection, a full pool)
is a 503 with `Retry-After` on every route, logged as one warning line: EventBridge and Jira deliver again later,
and the outage is not a bug to trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from hubsync.domain.ports import QueueUnavailable
from hubsync.domain.validation import error_lines, validation_messages
from hubsync.web.services import services

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
DATABASE_UNAVAILABLE = "the database is unavailable; retry later"


class ApiError(Exception):
    """An answer that is not a success: `status`, a message for the caller, optional extra JSON fields."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def error_response(status: int, message: str, **extra: Any) -> Response:
    response = jsonify(error=message, **extra)
    response.status_code = status
    return response


def retry_later(message: str = "the queue is unavailable; retry later") -> Response:
    """503 with `Retry-After`: Jira retries its webhooks and EventBridge its events on a 5xx."""
    response = error_response(503, message)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _reason(error: BaseException) -> str:
    """The driver's first line (no statement, no parameters): what the warning says."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0][:200] if lines else ''}"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error.status, error.message, **error.extra)

    @app.errorhandler(ValidationError)
    def _invalid_body(error: ValidationError) -> Response:
        details = sorted(error_lines(validation_messages(error)))
        return error_response(400, "the request body is not valid", details=details)

    @app.errorhandler(QueueUnavailable)
    def _queue_unavailable(error: QueueUnavailable) -> Response:
        log.warning("%s %s: the queue is unavailable: %s", request.method, request.path, error)
        return retry_later()

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        response = error_response(error.code or 500, error.description or error.name)
        for name, value in error.get_headers():  # e.g. Allow on a 405
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if services().store.unavailable(error):
            log.warning("%s %s: the database is unavailable: %s", request.method, request.path, _reason(error))
            return retry_later(DATABASE_UNAVAILABLE)
        log.exception("unhandled error")
        return error_response(500, "internal error; the service log has the details")
