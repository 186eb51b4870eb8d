"""Every answer of the web app is JSON, errors included: `{"error": "what is wrong"}` with the right status."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


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


def validation_messages(error: ValidationError, prefix: str = "") -> list[str]:
    """marshmallow's nested message dict as a flat list of "path: message" lines, sorted."""
    lines: list[str] = []

    def walk(messages: Any, path: str) -> None:
        if isinstance(messages, dict):
            for key, value in messages.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(messages, list) and all(isinstance(item, str) for item in messages):
            lines.extend(f"{path or '(body)'}: {message}" for message in messages)
        elif isinstance(messages, list):
            for index, value in enumerate(messages):
                walk(value, f"{path}[{index}]")
        else:
            lines.append(f"{path or '(body)'}: {messages}")

    walk(error.messages, prefix)
    return sorted(lines)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error.status, error.message, **error.extra)

    @app.errorhandler(ValidationError)
    def _invalid_body(error: ValidationError) -> Response:
        return error_response(400, "the request body is not valid", details=validation_messages(error))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        response = error_response(error.code or 500, error.description or error.name)
        for name, value in error.get_headers():  # e.g. Allow on a 405
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal error; the service log has the details")
