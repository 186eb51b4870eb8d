"""Check the Jira simulator against Atlassian's OpenAPI documents: every response (success and error) against the
schema for its path, method and status, and every request body it accepts against the operation's request body.

`JiraContract.load(specs_dir, flavour)` reads the flavour's document once (openapi-core validates per exchange in
a few milliseconds); `ContractCheckedApp(app, contract)` wraps the simulator's WSGI app and records a mismatch
line such as `POST /rest/api/3/issue 201: 'key' is a required property` for every exchange that breaks it.

The documents are taken as they are, except for the corrections and status exceptions listed below, each with
the reason it is right to depart from the letter of the document.
"""

from __future__ import annotations

import copy
import io
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft4Validator
from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.unmarshalling.request.unmarshallers import V30RequestBodyUnmarshaller
from openapi_core.validation.response.exceptions import MissingData
from werkzeug.datastructures import Headers

Flavour = Literal["cloud", "datacenter"]

SPEC_FILES = {"cloud": "jira-cloud-platform-v3.openapi.json", "datacenter": "jira-data-center-v2.openapi.json"}
# Where each document's operations live: Cloud paths are absolute (/rest/api/3/...); Data Center's server URL
# ends in /rest, so its paths start at /api/2.
SERVER_URLS = {"cloud": "https://your-domain.atlassian.net", "datacenter": "http://localhost:8090"}


# -- corrections: where a document is known to misdescribe what Jira sends -----------------------------------


@dataclass(frozen=True)
class Correction:
    pointer: tuple[str, ...]  # path into the document
    replace: Callable[[Any], Any]  # new value, from the old one
    reason: str


def _list_of(item: Any) -> Any:
    return {"type": "array", "items": item}


def _item_or_list(item: Any) -> Any:
    return {"anyOf": [item, {"type": "array", "items": item}]}


def _response_schema(path: str, method: str, status: str = "200") -> tuple[str, ...]:
    return ("paths", path, method, "responses", status, "content", "application/json", "schema")


_DC_LISTS_DOCUMENTED_AS_ONE_ITEM = (
    "/api/2/priority",
    "/api/2/status",
    "/api/2/resolution",
    "/api/2/issuetype",
    "/api/2/statuscategory",
    "/api/2/user/assignable/search",
    "/api/2/user/search",
    "/api/2/project/{projectIdOrKey}/statuses",
    "/api/2/project",
)

CORRECTIONS: dict[Flavour, tuple[Correction, ...]] = {
    "cloud": (
        Correction(
            _response_schema("/rest/api/3/issue/{issueIdOrKey}/remotelink", "get"),
            _item_or_list,
            "Jira returns the array of an issue's remote links; only with `globalId` does it return one link "
            "(the document describes the single-link case only).",
        ),
    ),
    "datacenter": (
        Correction(
            ("components", "schemas", "IssueBean", "properties", "fields", "additionalProperties"),
            lambda _old: {},
            "The document types every issue field value as an object, yet its own IssueBean example holds "
            "strings (summary) and arrays (labels), as Jira sends them.",
        ),
        *(
            Correction(
                _response_schema(path, "get"),
                _list_of,
                "Jira returns a JSON array of these (its REST reference: 'Returns a list of ...'); the document "
                "names only the item schema.",
            )
            for path in _DC_LISTS_DOCUMENTED_AS_ONE_ITEM
        ),
        Correction(
            _response_schema("/api/2/issue/{issueIdOrKey}/remotelink", "get"),
            _item_or_list,
            "An array of the issue's remote links; one link when `globalId` is given.",
        ),
        Correction(
            ("components", "schemas", "IssueUpdateBean", "properties", "fields", "additionalProperties"),
            lambda _old: {},
            "Same as IssueBean: a create or edit request's field values are strings, arrays and objects "
            "(summary, labels, project), not objects only.",
        ),
        Correction(
            ("components", "schemas", "EntityPropertyBean", "properties", "value"),
            lambda _old: {},
            "The document types a property's value as a string; Jira returns the JSON value the property holds.",
        ),
        Correction(
            ("paths", "/api/2/issue/{issueIdOrKey}/properties/{propertyKey}", "put", "requestBody", "content",
             "application/json", "schema"),
            lambda _old: {},
            "The document types the property value as a string holding JSON; Jira takes the JSON value itself "
            "as the body (any JSON of at most 32 KB), as on Cloud.",
        ),
    ),
}


# Jira writes timestamps as yyyy-MM-dd'T'HH:mm:ss.SSSZ (`2021-01-17T12:34:00.000+0000`), as both documents' own
# examples show, while their `format: date-time` means RFC 3339 (`+00:00`): both spellings are accepted.
_JIRA_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?([+-]\d{4}|[+-]\d{2}:\d{2}|Z)$")


def _is_timestamp(value: Any) -> bool:
    return not isinstance(value, str) or bool(_JIRA_TIMESTAMP.match(value))


# Operations that answer without a body (204s, and the property PUT) are given an unconstrained `{}` schema
# under application/json in the Cloud document; an empty body is accepted there, a body is still checked.
_UNCONSTRAINED = ({}, None)


# -- statuses Jira returns that the documents do not list per operation --------------------------------------

ERROR_COLLECTION = {
    "type": "object",
    "required": ["errorMessages", "errors"],
    "properties": {
        "errorMessages": {"type": "array", "items": {"type": "string"}},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
        "status": {"type": "integer"},
    },
    "additionalProperties": False,
}

UNLISTED_STATUSES: dict[int, str] = {
    401: "Every REST resource requires authentication and answers 401 without it; the Data Center document "
    "omits 401 on most operations (Cloud's lists it almost everywhere).",
    429: "Rate limiting (Atlassian's rate-limiting guide: 429 with Retry-After on any endpoint); injected by the "
    "fault knobs.",
    500: "Any endpoint can fail; injected by the fault knobs.",
    502: "Any endpoint can fail behind Atlassian's edge; injected by the fault knobs.",
    503: "Any endpoint can be unavailable (Atlassian's rate-limiting guide: 503 may carry Retry-After).",
    504: "Any endpoint can time out behind Atlassian's edge; injected by the fault knobs.",
}
# Jira Cloud answers 403 with an error collection to a caller its scopes or global permissions do not allow, on
# operations whose document lists only 401 too (e.g. a Connect app calling an operation INACCESSIBLE to Connect, a
# Forge app without the scope, a person without ADMINISTER): accepted on the admin operations, those the document
# secures with the `manage:jira-configuration` scope.
ADMIN_SCOPE = "manage:jira-configuration"
REMOVED_CLOUD_PATHS = {
    "/rest/api/2/search",
    "/rest/api/3/search",
    "/rest/api/2/search/id",
    "/rest/api/3/search/id",
    "/rest/api/2/expression/eval",
    "/rest/api/3/expression/eval",
}
REMOVED_REASON = "Removed from Jira Cloud under CHANGE-2046: every call answers 410 with an error collection."

# Admin webhooks' REST APIs are in neither document: Cloud's documents only the apps' dynamic webhooks
# (/rest/api/3/webhook), Data Center's has no webhook path at all. What can be checked is: errors have Jira's error
# collection shape, and Data Center 10's webhooks (request and answer) match the one thing its document has, the
# unreferenced RestWebhook model, by its declared properties only (see `_rest_webhook_schema`).
ADMIN_WEBHOOKS_LEGACY = "/rest/webhooks/1.0/webhook"
ADMIN_WEBHOOKS_DC10 = "/rest/jira-webhook/1.0/webhooks"


# -- the exchange as openapi-core sees it --------------------------------------------------------------------


@dataclass
class _SpecRequest:
    host_url: str
    path: str
    method: str
    body: bytes
    content_type: str
    parameters: RequestParameters = field(default_factory=RequestParameters)


@dataclass
class _SpecResponse:
    status_code: int
    content_type: str
    data: bytes
    headers: Headers


class JiraContract:
    """One flavour's OpenAPI document (with `CORRECTIONS` applied), able to judge one HTTP exchange."""

    def __init__(self, document: dict[str, Any], flavour: Flavour) -> None:
        self.flavour = flavour
        corrected = copy.deepcopy(document)
        for correction in CORRECTIONS[flavour]:
            _apply(corrected, correction)
        formats: dict[str, Any] = {
            "spec_validator_cls": None,
            "extra_format_validators": {"date-time": _is_timestamp},
            "extra_format_unmarshallers": {"date-time": str},
        }
        self._document = corrected
        self._responses = OpenAPI.from_dict(corrected, config=Config(**formats))
        self._request_bodies = OpenAPI.from_dict(
            corrected, config=Config(**formats, request_unmarshaller_cls=V30RequestBodyUnmarshaller)
        )
        self._templates = [
            (re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"), template)
            for template in sorted(corrected["paths"], key=lambda t: t.count("{"))  # literal segments first
        ]
        self._error_collection = Draft4Validator(ERROR_COLLECTION)
        self._rest_webhook = Draft4Validator(_rest_webhook_schema(corrected)) if flavour == "datacenter" else None

    @classmethod
    def load(cls, specs_dir: Path, flavour: Flavour) -> JiraContract:
        return cls(json.loads((specs_dir / SPEC_FILES[flavour]).read_text()), flavour)

    def mismatches(
        self,
        method: str,
        path: str,
        request_body: bytes,
        request_content_type: str,
        status: int,
        response_body: bytes,
        response_content_type: str,
    ) -> list[str]:
        """What is wrong with one exchange under /rest (empty when it conforms)."""
        label = f"{method} {path} {status}"
        response = _SpecResponse(status, response_content_type or "application/json", response_body, Headers())
        request = _SpecRequest(SERVER_URLS[self.flavour], path, method.lower(), request_body,
                               request_content_type or "application/json")
        if self.flavour == "cloud" and path in REMOVED_CLOUD_PATHS:
            return self._error_shape(label, response_body) if status == 410 else [f"{label}: {REMOVED_REASON}"]
        if path.startswith((ADMIN_WEBHOOKS_LEGACY, ADMIN_WEBHOOKS_DC10)):
            return self._admin_webhook_mismatches(label, path, request_body, status, response_body)
        problems: list[str] = []
        result = self._responses.unmarshal_response(request, response)
        for error in result.errors:
            if isinstance(error, ResponseNotFound) and (status in UNLISTED_STATUSES or (
                    status == 403 and self._admin_operation(method, path))):
                problems += self._error_shape(label, response_body)
            elif isinstance(error, MissingData) and self._unconstrained(method, path, status):
                continue
            elif isinstance(error, PathError) and status in (404, 405):
                problems += self._error_shape(label, response_body)  # no such resource (or method), on Jira too
            elif isinstance(error, PathError):
                problems.append(f"{label}: the document has no operation {method} {path}")
            else:
                problems.append(f"{label}: {_describe(error)}")
        if 200 <= status < 300 and request_body.strip():
            body_result = self._request_bodies.unmarshal_request(request)
            problems += [f"{label} request body: {_describe(error)}" for error in body_result.errors]
        return problems

    def _admin_webhook_mismatches(
        self, label: str, path: str, request_body: bytes, status: int, response_body: bytes
    ) -> list[str]:
        if status >= 400:
            return self._error_shape(label, response_body)
        if self._rest_webhook is None or not path.startswith(ADMIN_WEBHOOKS_DC10):
            return []
        problems: list[str] = []
        for where, raw in (("request body", request_body), ("answer", response_body)):
            if not raw.strip():
                continue
            document = json.loads(raw)
            for item in document if isinstance(document, list) else [document]:
                problems += [f"{label} {where}: {error.message} (at {'/'.join(map(str, error.absolute_path))})"
                             for error in self._rest_webhook.iter_errors(item)][:1]
        return problems

    def _admin_operation(self, method: str, path: str) -> bool:
        """Whether the operation is one the document secures with `ADMIN_SCOPE`."""
        relative = path if self.flavour == "cloud" else path.removeprefix("/rest")
        for pattern, template in self._templates:
            if pattern.match(relative):
                operation = self._document["paths"][template].get(method.lower(), {})
                return any(ADMIN_SCOPE in scopes for requirement in operation.get("security", [])
                           for scopes in requirement.values())
        return False

    def _unconstrained(self, method: str, path: str, status: int) -> bool:
        """Whether the document gives this response no schema beyond `{}` (so no body is fine)."""
        relative = path if self.flavour == "cloud" else path.removeprefix("/rest")
        for pattern, template in self._templates:
            if pattern.match(relative):
                response = self._document["paths"][template].get(method.lower(), {}).get("responses", {})
                content = response.get(str(status), {}).get("content", {})
                return content.get("application/json", {}).get("schema") in _UNCONSTRAINED
        return False

    def _error_shape(self, label: str, body: bytes) -> list[str]:
        try:
            parsed = json.loads(body)
        except ValueError:
            return [f"{label}: the error body is not JSON"]
        return [f"{label}: {error.message}" for error in self._error_collection.iter_errors(parsed)][:1]


def _rest_webhook_schema(document: dict[str, Any]) -> dict[str, Any]:
    """Data Center's RestWebhook with its credentials model inlined, keeping the declared properties' types but
    not `additionalProperties: {type: object}`: that is the generator's rendering of the bean's map behaviour,
    while Jira 10's webhooks carry `id`, `createdDate` and `updatedDate` as numbers beyond the declared
    properties (MrRefactoring/jira.js's server model, generated from the DC 11.3 document, lists them)."""
    schemas = document["components"]["schemas"]
    webhook = copy.deepcopy(schemas["RestWebhook"])
    credentials = copy.deepcopy(schemas["RestWebhookCredentials"])
    webhook.pop("additionalProperties", None)
    credentials.pop("additionalProperties", None)
    webhook["properties"]["credentials"] = credentials
    return webhook


def _apply(document: dict[str, Any], correction: Correction) -> None:
    *parents, last = correction.pointer
    node: Any = document
    for key in parents:
        node = node[key]
    if last not in node:
        raise KeyError(f"correction target {'/'.join(correction.pointer)} is not in the document")
    node[last] = correction.replace(node[last])


def _describe(error: Exception) -> str:
    """The most specific reason openapi-core has: the first schema error, with where it is."""
    cause: BaseException | None = error
    while cause is not None:
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            first = next(iter(schema_errors))
            where = "/".join(str(p) for p in first.absolute_path)
            return f"{first.message}" + (f" (at {where})" if where else "")
        cause = cause.__cause__ or cause.__context__
    return str(error) or type(error).__name__


# -- the WSGI wrapper ----------------------------------------------------------------------------------------


class ContractCheckedApp:
    """Wrap a simulator's WSGI app; every exchange under /rest is checked and mismatches are collected."""

    def __init__(self, app: Callable, contract: JiraContract) -> None:
        self.app = app
        self.contract = contract
        self.mismatches: list[str] = []
        self.checked = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/rest/"):
            return self.app(environ, start_response)
        request_body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(request_body)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            captured["status"] = int(status.split()[0])
            captured["content_type"] = next((v for k, v in headers if k.lower() == "content-type"), "")
            return start_response(status, headers, exc_info)

        chunks = self.app(environ, capture)
        try:
            response_body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        problems = self.contract.mismatches(
            environ["REQUEST_METHOD"], path, request_body, environ.get("CONTENT_TYPE", ""),
            captured["status"], response_body, captured["content_type"].split(";")[0].strip(),
        )
        with self._lock:
            self.checked += 1
            self.mismatches += problems
        return [response_body]
