"""The errors Security Hub answers with, by the names botocore turns into exception classes.

The REST-JSON protocol carries the name in the `x-amzn-ErrorType` header and the body as `{"Code", "Message"}`;
the HTTP status is the one botocore's model gives each exception. Four names are not in the model but come from
the AWS front door in front of every REST service: throttling (`TooManyRequestsException`), an operation the
simulator does not serve (`UnknownOperationException`), an unsigned request (`MissingAuthenticationTokenException`)
and a gateway failure (`ServiceUnavailableException`, 502/503/504).
"""

from __future__ import annotations

import json

from flask import Response, request

from hubsync_sandbox.securityhub.throttling import declared_exception

STATUS_BY_CODE = {
    "InvalidInputException": 400,
    "ValidationException": 400,
    "InvalidAccessException": 401,
    "AccessDeniedException": 403,
    "MissingAuthenticationTokenException": 403,
    "ResourceNotFoundException": 404,
    "UnknownOperationException": 404,
    "ResourceConflictException": 409,
    "ConflictException": 409,
    "LimitExceededException": 429,
    "TooManyRequestsException": 429,
    "ThrottlingException": 429,
    "InternalException": 500,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}

FAULT_CODES = {
    400: "InvalidInputException",
    401: "InvalidAccessException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    409: "ResourceConflictException",
    500: "InternalException",
}


class ServiceError(Exception):
    """A whole-request failure, rendered as the REST-JSON error botocore parses."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = STATUS_BY_CODE[code]


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInputException", message)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def error_response(code: str, message: str, status: int | None = None) -> Response:
    """The REST-JSON error: `x-amzn-ErrorType` header, `{"Code", "Message"}` body, the modelled status."""
    body = json.dumps({"Code": code, "Message": message})
    response = Response(body, status=status or STATUS_BY_CODE[code], mimetype="application/json")
    response.headers["x-amzn-ErrorType"] = code
    return response


def fault_response(status: int) -> Response:
    """What an injected fault looks like: the exception Security Hub uses for that status on this operation."""
    operation = request.url_rule.endpoint if request.url_rule is not None else ""
    if status == 429:
        code = declared_exception(operation)
    elif status in (502, 503, 504):
        code = "ServiceUnavailableException"
    else:
        code = FAULT_CODES.get(status, "InternalException" if status >= 500 else "InvalidInputException")
    return error_response(code, f"Injected fault: HTTP {status}", status)
