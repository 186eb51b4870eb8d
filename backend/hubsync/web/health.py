"""Probes for an orchestrator: `/healthz` (the process answers) and `/readyz` (it can do its work: the database
answers and, when the queue can tell, the queue too). Neither needs credentials; neither says more than up/down.

`/metrics`: Prometheus text format (hubsync.metrics). Public unless HUBSYNC_METRICS_TOKEN is set, then only with
`Authorization: Bearer <token>`. It carries no tenant, finding or ticket names."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from hubsync.metrics import exposition, token_allows
from hubsync.web.errors import error_response
from hubsync.web.services import services

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = {"database": _database_ready()}
    ready = getattr(services().queue, "ready", None)
    if callable(ready):
        checks["queue"] = _queue_ready(ready)
    down = sorted(name for name, state in checks.items() if state != "ok")
    if down:
        return jsonify(error=f"not ready: {', '.join(down)} unreachable", checks=checks), 503
    return jsonify(status="ok", checks=checks), 200


@bp.get("/metrics")
def metrics() -> Response:
    if not token_allows(services().config.metrics_token, request.headers.get("Authorization")):
        response = error_response(401, "send the metrics token as Authorization: Bearer <token>")
        response.headers["WWW-Authenticate"] = 'Bearer realm="hubsync metrics"'
        return response
    body, content_type = exposition(services().queue, services().config.metrics_multiprocess_dir)
    return Response(body, status=200, content_type=content_type, headers={"Cache-Control": "no-store"})


def _database_ready() -> str:
    try:
        services().store.ping()
    except Exception as exc:  # any failure means not ready; the log has the cause, the answer no details
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        return "down"
    return "ok"


def _queue_ready(ready: object) -> str:
    try:
        ok = ready()  # type: ignore[operator]
    except Exception as exc:
        log.warning("readiness: queue unreachable: %s", type(exc).__name__)
        return "down"
    return "ok" if ok is not False else "down"
