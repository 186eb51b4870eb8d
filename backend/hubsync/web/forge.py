"""Forge's calls to the app's remote (this service): lifecycle, product events, the workflow post function, the
hourly scheduled trigger and pre-uninstall. Each is a routed `endpoint` of the manifest with the app system token.

Every route verifies the Forge invocation token first (`forge_auth`) and takes the installation only from it; the
installation's tenant is created, re-linked or refreshed with the call's app token (`service.installation`). Forge
waits 5 s for an answer and delivers again on anything but 2xx (`retryContext` then says so): so an event is
queued and answered 204 at once, and a redelivery carries the same event id, which the queue drops. Events about
the app's own writes are filtered by Forge (`ignoreSelf`); one marked `selfGenerated` anyway is dropped here.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, request
from marshmallow import fields, validate

from hubsync import metrics
from hubsync.domain.hint import HintSource
from hubsync.domain.tenant import Tenant
from hubsync.service import installation
from hubsync.service.jira_changes import accept_issue_change
from hubsync.web.errors import ApiError
from hubsync.web.forge_auth import ForgeCall, verify_forge_call
from hubsync.web.hooks import IssueRef, Lenient
from hubsync.web.services import services

log = logging.getLogger(__name__)

bp = Blueprint("forge", __name__, url_prefix="/forge")

LIFECYCLE_EVENTS = ("avi:forge:installed:app", "avi:forge:upgraded:app")
ISSUE_EVENTS = ("avi:jira:created:issue", "avi:jira:updated:issue", "avi:jira:deleted:issue")


class ProductEvent(Lenient):
    eventType = fields.String(required=True, validate=validate.OneOf(ISSUE_EVENTS))
    issue = fields.Nested(IssueRef, required=True)
    selfGenerated = fields.Boolean(load_default=False)
    timestamp = fields.Raw(load_default=None)  # epoch ms, as a string or a number


class Transition(Lenient):
    executionId = fields.String(load_default=None, validate=validate.Length(max=200))


class PostFunctionEvent(Lenient):
    issue = fields.Nested(IssueRef, required=True)
    transition = fields.Nested(Transition, load_default=None)


@bp.post("/lifecycle")
def lifecycle() -> tuple[str, int]:
    call = verify_forge_call()
    event = _event()
    if event.get("eventType") not in LIFECYCLE_EVENTS:
        raise ApiError(400, f"this endpoint takes {', '.join(LIFECYCLE_EVENTS)}")
    tenant = installation.forge_tenant(services().store, call.installation, installing=True)
    log.info("Forge %s: tenant %s", event["eventType"], tenant.id if tenant else "-")
    return "", 204


@bp.post("/events")
def events() -> tuple[str, int]:
    call = verify_forge_call()
    event = ProductEvent().load(_event())
    tenant = _tenant(call)
    if tenant is None:
        return "", 204  # hubsync was uninstalled from this installation: nothing to sync
    if event["selfGenerated"]:
        metrics.record_webhook_hint(HintSource.JIRA_FORGE_EVENT.value, "own_change")
        return "", 204
    issue = event["issue"]
    delivery = f"{event['eventType']}:{issue['id']}:{event['timestamp']}" if event["timestamp"] else None
    _enqueue(tenant, HintSource.JIRA_FORGE_EVENT, issue, delivery)
    return "", 204


@bp.post("/post-function")
def post_function() -> tuple[str, int]:
    call = verify_forge_call()
    event = PostFunctionEvent().load(_event())
    tenant = _tenant(call)
    if tenant is None:
        return "", 204
    transition = event["transition"] or {}
    execution = transition.get("executionId")
    _enqueue(tenant, HintSource.JIRA_POST_FUNCTION, event["issue"], f"forge:{execution}" if execution else None)
    return "", 204


@bp.post("/scheduled")
def scheduled() -> tuple[str, int]:
    """The hourly trigger: its app token (kept by `_tenant`) is what the worker syncs with between invocations."""
    _tenant(verify_forge_call())
    return "", 204


@bp.post("/pre-uninstall")
def pre_uninstall() -> tuple[str, int]:
    call = verify_forge_call()
    tenant = installation.forge_uninstall(services().store, call.installation.installation_id)
    if tenant is not None:
        services().tenants.forget(tenant.id)
        log.info("Forge pre-uninstall: tenant %s uninstalled, its app token forgotten, its data kept", tenant.id)
    return "", 204


def _tenant(call: ForgeCall) -> Tenant | None:
    """The installation's tenant, refreshed with this call's app token; None once hubsync was uninstalled."""
    return installation.forge_tenant(services().store, call.installation)


def _enqueue(tenant: Tenant, source: HintSource, issue: dict[str, Any], delivery: str | None) -> None:
    accept_issue_change(services().queue, tenant.id, source, issue, delivery)
    metrics.record_webhook_hint(source.value, "queued")


def _event() -> dict[str, Any]:
    """The event: the body itself, or under `payload` (Forge documents both shapes)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object", details=["(body): not a JSON object"])
    payload = body.get("payload")
    return payload if isinstance(payload, dict) else body
