"""Check HTTP responses against botocore's service model: the contract a real boto3 client relies on.

`ShapeChecker.check(method, path, status, headers, body)` finds the operation by the model's method and
requestUri, then validates a success body against the operation's output shape (structure members required
and unknown, types, list and map sizes, string enums, lengths and patterns, integer ranges, timestamps in the
protocol's format) or an error against the error shapes the operation declares (name as botocore reads it,
HTTP status, body members). It returns the first mismatch in words, e.g.
`GetFindings 200: Findings[0].Severity.Label 'SEVERE' not in enum`, or None.

`CheckedApp` wraps a WSGI app and records the mismatches of every response it serves.

A few errors are not in any model but come from the AWS front door in front of every REST service; they are
accepted for every operation with the statuses listed in FRONT_DOOR_ERRORS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

FRONT_DOOR_ERRORS: dict[str, set[int]] = {
    "TooManyRequestsException": {429},
    "UnknownOperationException": {404},
    "MissingAuthenticationTokenException": {403},
    "ServiceUnavailableException": {502, 503, 504},
}
ISO8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


@cache
def service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


class Mismatch(Exception):
    """One way a value differs from its shape; `str()` names where."""


class ShapeChecker:
    """Responses of one service, checked against its botocore model."""

    def __init__(self, service: str = "securityhub") -> None:
        self.model = service_model(service)
        self._routes = sorted(
            (self._route(self.model.operation_model(name)) for name in self.model.operation_names),
            key=lambda route: route[0].pattern.count("("),  # literal paths win over templated ones
        )

    @staticmethod
    def _route(operation: OperationModel) -> tuple[re.Pattern[str], str, OperationModel]:
        uri = operation.http["requestUri"].split("?", 1)[0]
        parts = re.split(r"(\{\w+\+?\})", uri)
        pattern = "".join(
            ("(.+)" if part.endswith("+}") else "([^/]+)") if part.startswith("{") else re.escape(part)
            for part in parts
        )
        return re.compile(f"^{pattern}$"), operation.http["method"], operation

    def operation_for(self, method: str, path: str) -> OperationModel | None:
        for pattern, route_method, operation in self._routes:
            if route_method == method and pattern.match(path):
                return operation
        return None

    def check(self, method: str, path: str, status: int, headers: Mapping[str, str], body: bytes) -> str | None:
        """The first way this response breaks the model, or None."""
        operation = self.operation_for(method, path)
        name = operation.name if operation else f"{method} {path}"
        try:
            document = json.loads(body) if body.strip() else {}
        except ValueError:
            return f"{name} {status}: body is not JSON: {body[:80]!r}"
        try:
            if status >= 400:
                self._check_error(operation, status, headers, document)
            elif operation is None:
                raise Mismatch(f"success answer to {method} {path}, which is no operation of the model")
            else:
                expected = operation.http.get("responseCode", 200)
                if status != expected:
                    raise Mismatch(f"status {status}, the model says {expected}")
                if operation.output_shape is None:
                    if document:
                        raise Mismatch("the operation has no output, but the body is not empty")
                else:
                    self._check(operation.output_shape, document, "", body_only=True)
        except Mismatch as mismatch:
            return f"{name} {status}: {mismatch}"
        return None

    def _check_error(
        self, operation: OperationModel | None, status: int, headers: Mapping[str, str], document: Any
    ) -> None:
        code = _error_code(headers, document)
        if code is None:
            raise Mismatch("error without a code (x-amzn-ErrorType header, or Code/__type in the body)")
        declared = {shape.name: shape for shape in operation.error_shapes} if operation else {}
        if code in declared:
            shape = declared[code]
            modelled = shape.metadata.get("error", {}).get("httpStatusCode")
            if status != modelled:
                raise Mismatch(f"{code} with status {status}, the model says {modelled}")
            if not isinstance(document, dict):
                raise Mismatch(f"{code} body is not an object")
            self._check(shape, {k: v for k, v in document.items() if k != "__type"}, "", body_only=True)
            return
        if code in FRONT_DOOR_ERRORS:
            if status not in FRONT_DOOR_ERRORS[code]:
                raise Mismatch(f"{code} with status {status}, expected one of {sorted(FRONT_DOOR_ERRORS[code])}")
            if not isinstance(document, dict) or not isinstance(document.get("Message", document.get("message")), str):
                raise Mismatch(f"{code} body needs a Message")
            return
        raise Mismatch(f"error {code!r} is not declared by the operation")

    def _check(self, shape: Shape, value: Any, where: str, body_only: bool = False) -> None:
        kind = shape.type_name
        here = where or "(body)"
        if shape.metadata.get("document"):
            _check_anything(shape, value, here, self.model.protocol)  # e.g. an OcsfFinding: free JSON
        elif kind == "structure":
            if not isinstance(value, dict):
                raise Mismatch(f"{here} is {_kind(value)}, not an object")
            members = {
                name: member
                for name, member in shape.members.items()
                if not (body_only and member.serialization.get("location"))
            }
            for name in shape.required_members:
                if name in members and name not in value:
                    raise Mismatch(f"{_join(where, name)} is required but missing")
            for name, item in value.items():
                if name not in members:
                    raise Mismatch(f"{_join(where, name)} is not a member of {shape.name}")
                self._check(members[name], item, _join(where, name))
        elif kind == "list":
            if not isinstance(value, list):
                raise Mismatch(f"{here} is {_kind(value)}, not a list")
            _check_size(shape, len(value), here, "items")
            for index, item in enumerate(value):
                self._check(shape.member, item, f"{where}[{index}]")
        elif kind == "map":
            if not isinstance(value, dict):
                raise Mismatch(f"{here} is {_kind(value)}, not a map")
            _check_size(shape, len(value), here, "entries")
            for key, item in value.items():
                self._check(shape.key, key, f"{where} key {key!r}")
                self._check(shape.value, item, f"{where}[{key!r}]")
        else:
            _SCALAR_CHECKS.get(kind, _check_anything)(shape, value, here, self.model.protocol)


def _check_string(shape: Shape, value: Any, where: str, protocol: str) -> None:
    if not isinstance(value, str):
        raise Mismatch(f"{where} is {_kind(value)}, not a string")
    if shape.enum and value not in shape.enum:
        raise Mismatch(f"{where} {value!r} not in enum")
    _check_size(shape, len(value), where, "characters")
    pattern = shape.metadata.get("pattern")
    if pattern and not re.search(pattern, value):
        raise Mismatch(f"{where} {value!r} does not match pattern {pattern!r}")


def _check_integer(shape: Shape, value: Any, where: str, protocol: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Mismatch(f"{where} is {_kind(value)}, not an integer")
    _check_range(shape, value, where)


def _check_number(shape: Shape, value: Any, where: str, protocol: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Mismatch(f"{where} is {_kind(value)}, not a number")
    _check_range(shape, value, where)


def _check_boolean(shape: Shape, value: Any, where: str, protocol: str) -> None:
    if not isinstance(value, bool):
        raise Mismatch(f"{where} is {_kind(value)}, not a boolean")


def _check_timestamp(shape: Shape, value: Any, where: str, protocol: str) -> None:
    default = "iso8601" if protocol in ("query", "ec2", "rest-xml") else "unixtimestamp"
    timestamp_format = shape.serialization.get("timestampFormat", default)
    if timestamp_format == "unixtimestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Mismatch(f"{where} is {_kind(value)}, not epoch seconds")
    elif timestamp_format == "iso8601":
        try:
            datetime.fromisoformat(value)
            valid = bool(ISO8601.match(value))
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise Mismatch(f"{where} {value!r} is not an ISO 8601 timestamp")
    elif not isinstance(value, str):
        raise Mismatch(f"{where} is {_kind(value)}, not an HTTP date")


def _check_blob(shape: Shape, value: Any, where: str, protocol: str) -> None:
    if not isinstance(value, str):
        raise Mismatch(f"{where} is {_kind(value)}, not base64 text")


def _check_anything(shape: Shape, value: Any, where: str, protocol: str) -> None:
    """Documents (free-form JSON) accept any value."""


_SCALAR_CHECKS: dict[str, Callable[[Shape, Any, str, str], None]] = {
    "string": _check_string,
    "integer": _check_integer,
    "long": _check_integer,
    "double": _check_number,
    "float": _check_number,
    "boolean": _check_boolean,
    "timestamp": _check_timestamp,
    "blob": _check_blob,
}


def _check_size(shape: Shape, size: int, where: str, unit: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        raise Mismatch(f"{where} has {size} {unit}, fewer than the minimum {low}")
    if high is not None and size > high:
        raise Mismatch(f"{where} has {size} {unit}, more than the maximum {high}")


def _check_range(shape: Shape, value: float, where: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        raise Mismatch(f"{where} {value} is below the minimum {low}")
    if high is not None and value > high:
        raise Mismatch(f"{where} {value} is above the maximum {high}")


def _error_code(headers: Mapping[str, str], document: Any) -> str | None:
    """The error name as botocore's REST-JSON parser reads it."""
    lowered = {key.lower(): value for key, value in headers.items()}
    header = lowered.get("x-amzn-errortype")
    if header:
        return header.split(":", 1)[0]
    if isinstance(document, dict):
        code = document.get("code") or document.get("Code") or document.get("__type")
        if isinstance(code, str):
            return code.rsplit("#", 1)[-1]
    return None


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}"
    )


class CheckedApp:
    """A WSGI wrapper that checks every response of the wrapped app (except under `skip_prefix`)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], checker: ShapeChecker, skip_prefix: str = "/_sandbox/"):
        self.app = app
        self.checker = checker
        self.skip_prefix = skip_prefix
        self.mismatches: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = int(status.split(" ", 1)[0]), dict(headers)
            return start_response(status, headers, exc_info)

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self.skip_prefix):
            problem = self.checker.check(environ["REQUEST_METHOD"], path, captured["status"], captured["headers"], body)
            if problem:
                self.mismatches.append(problem)
        return [body]
