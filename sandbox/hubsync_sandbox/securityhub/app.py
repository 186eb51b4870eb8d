"""The simulator over HTTP: Security Hub's REST-JSON routes (method and path from botocore's model), so a plain
`boto3.client("securityhub", endpoint_url=...)` talks to it, plus the control API under `/_sandbox/`:

    GET|POST|DELETE /_sandbox/event-targets    list, add ({"type": "http", "url", "header_name", "header_value"}
                                               or {"type": "sqs", "queue_url", "endpoint_url", "region",
                                               "credentials"}; optional "detail_types", the rule's detail-types:
                                               CSPM's two by default, e.g. ["Findings Imported V2"]), remove
                                               all; DELETE /_sandbox/event-targets/<id>
    GET|DELETE      /_sandbox/events           emitted events with their delivery state, and the dead letters
    POST            /_sandbox/custom-action    {"actionTargetArn", "findings": [{"Id", "ProductArn"}]}
    GET|POST        /_sandbox/throttling       {"enabled": true, "error_code": "TooManyRequestsException"}
    GET|POST|DELETE /_sandbox/unprocessed      {"share": 0.3, "error_code": "ConcurrentUpdateError", "count": 10}:
                                               BatchUpdateFindings leaves that share of its findings unprocessed
                                               (ConcurrentUpdateError or InternalFailure), `count` of them at most
    GET|POST|DELETE /_sandbox/unprocessed-v2   the same for BatchUpdateFindingsV2 (ConflictException or
                                               InternalServerException)
    GET|POST        /_sandbox/hubv2            where Security Hub V2 is enabled; {"enabled": false, "account_id",
                                               "region"} turns it off (on: true) in that account (default: the
                                               administrator) and Region (default: every one)
    POST            /_sandbox/ocsf/twins       Security Hub V2 enabled beside CSPM: an OCSF twin of every ASFF
                                               finding of the AWS integrations; answers {"added": n}
    POST            /_sandbox/ocsf/<uid>/archive|recur   the provider closes an OCSF finding, or reopens it as New
    /_sandbox/faults, /_sandbox/counters       fault injection and request counters (knobs), keyed by operation
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from hubsync_sandbox.knobs import CONTROL_PREFIX
from hubsync_sandbox.securityhub.delivery import CSPM_DETAIL_TYPES
from hubsync_sandbox.securityhub.errors import ServiceError, error_response, invalid_input
from hubsync_sandbox.securityhub.simulator import Caller, SecurityHubSimulator, Unprocessed

log = logging.getLogger(__name__)

# SigV4: `Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/<service>/aws4_request, ...`
CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/[^/,\s]+/aws4_request")

Operation = Callable[[Caller, dict[str, Any]], dict[str, Any]]


def create_securityhub_app(sim: SecurityHubSimulator) -> Flask:
    """A Flask app serving `sim`; every request is counted (and may be faulted) under its operation name."""
    app = Flask("hubsync_sandbox.securityhub")
    sim.knobs.install(app, counter_key=_operation_name)

    routes: list[tuple[str, str, str, Operation]] = [
        ("GetFindings", "POST", "/findings", sim.get_findings),
        ("BatchImportFindings", "POST", "/findings/import", sim.batch_import_findings),
        ("BatchUpdateFindings", "PATCH", "/findings/batchupdate", sim.batch_update_findings),
        ("CreateActionTarget", "POST", "/actionTargets", sim.create_action_target),
        ("DescribeActionTargets", "POST", "/actionTargets/get", sim.describe_action_targets),
        ("DeleteActionTarget", "DELETE", "/actionTargets/<path:ActionTargetArn>", sim.delete_action_target),
        ("GetAdministratorAccount", "GET", "/administrator", sim.get_administrator_account),
        ("DescribeHub", "GET", "/accounts", sim.describe_hub),
        ("GetFindingsV2", "POST", "/findingsv2", sim.get_findings_v2),
        ("BatchUpdateFindingsV2", "PATCH", "/findingsv2/batchupdatev2", sim.batch_update_findings_v2),
        ("DescribeSecurityHubV2", "GET", "/hubv2", sim.describe_security_hub_v2),
    ]
    for name, method, rule, operation in routes:
        app.add_url_rule(rule, endpoint=name, view_func=_view(sim, name, operation), methods=[method])
    app.register_blueprint(_control_blueprint(sim))

    @app.after_request
    def _request_id(response: Response) -> Response:
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return response

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError) -> Response:
        return error_response(error.code, error.message)

    @app.errorhandler(HTTPException)
    def _unknown_route(error: HTTPException) -> Response | tuple[Response, int]:
        if request.path.startswith(CONTROL_PREFIX):
            return jsonify(error=f"{request.method} {request.path}: {error.description}"), error.code or 500
        if error.code in (404, 405):
            message = f"The Security Hub simulator does not serve {request.method} {request.path}"
            return error_response("UnknownOperationException", message)
        return error_response("InvalidInputException", str(error.description), error.code)

    @app.errorhandler(Exception)
    def _internal_error(error: Exception) -> Response:
        log.exception("Security Hub simulator failed on %s %s", request.method, request.path)
        return error_response("InternalException", f"{type(error).__name__}: {error}")

    return app


def _view(sim: SecurityHubSimulator, name: str, operation: Operation) -> Callable[..., Response]:
    def view(**path_parameters: str) -> Response:
        caller = _caller(sim)
        if not sim.throttle.admit(name, caller.account_id, caller.region):
            raise ServiceError(sim.throttle.exception_for(name), "Rate exceeded")
        body = {**_json_body(), **request.args.to_dict(), **path_parameters}
        result = operation(caller, body)
        return Response(json.dumps(result, separators=(",", ":")), mimetype="application/json")

    view.__name__ = name
    return view


def _caller(sim: SecurityHubSimulator) -> Caller:
    match = CREDENTIAL_SCOPE.search(request.headers.get("Authorization", ""))
    if match is None:
        raise ServiceError("MissingAuthenticationTokenException", "Missing Authentication Token: sign with SigV4")
    return sim.caller_for(match.group(1), match.group(2))


def _json_body() -> dict[str, Any]:
    raw = request.get_data()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise invalid_input("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid_input("The request body must be a JSON object")
    return body


def _operation_name() -> str:
    return request.url_rule.endpoint if request.url_rule is not None else "UnknownOperation"


def _control_blueprint(sim: SecurityHubSimulator) -> Blueprint:
    bp = Blueprint("securityhub_control", __name__, url_prefix=CONTROL_PREFIX.rstrip("/"))

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}

    @bp.get("/event-targets")
    def list_targets() -> Response:
        return jsonify(targets=sim.events.targets())

    @bp.post("/event-targets")
    def add_target() -> tuple[Response, int]:
        data = body()
        detail_types = data.get("detail_types", CSPM_DETAIL_TYPES)
        if not isinstance(detail_types, list | tuple) or not all(isinstance(item, str) for item in detail_types):
            return jsonify(error="detail_types must list detail-type names"), 400
        try:
            if data.get("type") == "http":
                target_id = sim.events.add_http_target(
                    data["url"], data.get("header_name", "x-api-key"), data.get("header_value", ""), detail_types
                )
            elif data.get("type") == "sqs":
                target_id = sim.events.add_sqs_target(
                    data["queue_url"], data.get("endpoint_url"), data.get("region", "us-east-1"),
                    data.get("credentials"), detail_types,
                )
            else:
                return jsonify(error='type must be "http" or "sqs"'), 400
        except (KeyError, TypeError) as exc:
            return jsonify(error=f"missing or invalid field: {exc}"), 400
        return jsonify(id=target_id), 201

    @bp.delete("/event-targets")
    def remove_targets() -> tuple[str, int]:
        sim.events.stop()
        return "", 204

    @bp.delete("/event-targets/<target_id>")
    def remove_target(target_id: str) -> tuple[Response | str, int]:
        try:
            sim.events.remove_target(target_id)
        except KeyError:
            return jsonify(error=f"no event target {target_id}"), 404
        return "", 204

    @bp.get("/events")
    def list_events() -> Response:
        return jsonify(events=sim.events.events(), dead_letter=sim.events.dead_letter())

    @bp.delete("/events")
    def clear_events() -> tuple[str, int]:
        sim.events.clear()
        return "", 204

    @bp.post("/custom-action")
    def custom_action() -> tuple[Response, int]:
        data = body()
        try:
            emitted = sim.trigger_custom_action(data.get("actionTargetArn", ""), data.get("findings"))
        except ServiceError as exc:
            return jsonify(error=exc.message), exc.status
        return jsonify(events=[event["id"] for event in emitted]), 200

    @bp.get("/throttling")
    def get_throttling() -> Response:
        return jsonify(enabled=sim.throttle.enabled, error_code=sim.throttle.error_code)

    @bp.post("/throttling")
    def set_throttling() -> tuple[Response, int]:
        data = body()
        if not isinstance(data.get("enabled"), bool):
            return jsonify(error="enabled must be true or false"), 400
        try:
            sim.throttle.configure(data["enabled"], data.get("error_code"))
        except ValueError as exc:
            return jsonify(error=str(exc)), 400
        return jsonify(enabled=sim.throttle.enabled, error_code=sim.throttle.error_code), 200

    for path, knob in (("/unprocessed", sim.unprocessed), ("/unprocessed-v2", sim.unprocessed_v2)):
        _unprocessed_routes(bp, path, knob, body)

    @bp.get("/hubv2")
    def get_hubv2() -> Response:
        return jsonify(hubs=sim.v2_hubs())

    @bp.post("/hubv2")
    def set_hubv2() -> tuple[Response, int]:
        data = body()
        where = [data.get(key) for key in ("account_id", "region")]
        if not isinstance(data.get("enabled"), bool) or set(data) - {"enabled", "account_id", "region"} or not all(
                value is None or isinstance(value, str) for value in where):
            return jsonify(error='body must be {"enabled": true|false, "account_id": "...", "region": "..."}'), 400
        try:
            sim.set_v2_enabled(data["enabled"], *where)
        except ValueError as exc:
            return jsonify(error=str(exc)), 400
        return jsonify(hubs=sim.v2_hubs()), 200

    @bp.post("/ocsf/twins")
    def ocsf_twins() -> Response:
        return jsonify(added=sim.add_ocsf_twins())

    @bp.post("/ocsf/<uid>/<change>")
    def ocsf_change(uid: str, change: str) -> tuple[Response, int]:
        changes = {"archive": sim.archive_ocsf, "recur": sim.recur_ocsf}
        if change not in changes:
            return jsonify(error="change must be archive or recur"), 404
        try:
            finding = changes[change](uid)
        except ServiceError as exc:
            return jsonify(error=exc.message), exc.status
        return jsonify(finding=finding), 200

    return bp


def _unprocessed_routes(bp: Blueprint, path: str, knob: Unprocessed, body: Callable[[], dict[str, Any]]) -> None:
    name = path.strip("/").replace("-", "_")

    def get_unprocessed() -> Response:
        return jsonify(knob.settings())

    def set_unprocessed() -> tuple[Response, int]:
        data = body()
        unknown = set(data) - {"share", "error_code", "count"}
        if "share" not in data or unknown:
            return jsonify(error='body must be {"share": 0..1, "error_code": "...", "count": <findings>}'), 400
        try:
            knob.configure(data["share"], data.get("error_code"), data.get("count"))
        except ValueError as exc:
            return jsonify(error=str(exc)), 400
        return jsonify(knob.settings()), 200

    def clear_unprocessed() -> tuple[str, int]:
        knob.configure(0.0)
        return "", 204

    bp.add_url_rule(path, f"get_{name}", get_unprocessed, methods=["GET"])
    bp.add_url_rule(path, f"set_{name}", set_unprocessed, methods=["POST"])
    bp.add_url_rule(path, f"clear_{name}", clear_unprocessed, methods=["DELETE"])
