"""Jira's webhooks and the "Sync with Security Hub" post function: each names an issue that changed; hubsync puts
a hint on the queue and answers 204 at once (the worker syncs the pair from its current state).

- The hint (`service.jira_changes`) names the finding when the issue carries hubsync's `hubsync.finding` property
  (the descriptor asks Jira to embed it), else the ticket.
- Its `event_id` is Jira's delivery id (`X-Atlassian-Webhook-Identifier`, the same on every retry), so a
  redelivery is dropped by the queue; without one, the event's own identity (event, issue, timestamp).
- A webhook about a change hubsync made itself (its `user` is hubsync's app user on the site) is no hint at all:
  the sync that wrote it has converged the pair already.
- When the queue cannot take the hint: 503 with `Retry-After` (the app's `QueueUnavailable` handler), and Jira
  delivers the webhook again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, g, request
from marshmallow import EXCLUDE, Schema, fields, validate

from hubsync import metrics
from hubsync.domain.hint import HintSource
from hubsync.service.jira_changes import accept_issue_change
from hubsync.web.errors import ApiError
from hubsync.web.jira_auth import verified_jira
from hubsync.web.jira_keys import ISSUE_KEY_PATTERN
from hubsync.web.services import services

log = logging.getLogger(__name__)

DELIVERY_ID_HEADER = "X-Atlassian-Webhook-Identifier"
WEBHOOK_EVENTS = {"issue_updated": "jira:issue_updated", "issue_deleted": "jira:issue_deleted"}

bp = Blueprint("hooks", __name__, url_prefix="/connect")


class Lenient(Schema):
    """A Jira payload: the fields hubsync reads are checked, the rest ignored (Jira adds fields freely)."""

    class Meta:
        unknown = EXCLUDE


class IssueRef(Lenient):
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    key = fields.String(required=True, validate=validate.Regexp(ISSUE_KEY_PATTERN, error="not a Jira issue key"))
    # Jira embeds the webhook's `propertyKeys` here: a list of {key, value} (an object keyed by property is read too)
    properties = fields.Raw(load_default=None)


class WebhookUser(Lenient):
    accountId = fields.String(load_default=None)
    accountType = fields.String(load_default=None)


class WebhookBody(Lenient):
    webhookEvent = fields.String(required=True)
    timestamp = fields.Integer(load_default=None)
    issue = fields.Nested(IssueRef, required=True)
    user = fields.Nested(WebhookUser, load_default=None)


class PostFunctionBody(Lenient):
    issue = fields.Nested(IssueRef, required=True)
    transition = fields.Dict(load_default=None)


@bp.post("/webhooks/<any(issue_updated, issue_deleted):event>")
@verified_jira()
def webhook(event: str) -> tuple[str, int]:
    body = WebhookBody().load(_json_body())
    if body["webhookEvent"] != WEBHOOK_EVENTS[event]:
        raise ApiError(400, f"this URL takes {WEBHOOK_EVENTS[event]} events, not {body['webhookEvent']}")
    if services().app_accounts.is_own(g.tenant, body["user"]):
        metrics.record_webhook_hint(HintSource.JIRA_WEBHOOK.value, "own_change")
        return "", 204  # hubsync's own change: nothing to sync
    issue = body["issue"]
    fallback_id = f"{body['webhookEvent']}:{issue['id']}:{body['timestamp']}" if body["timestamp"] else None
    _enqueue(HintSource.JIRA_WEBHOOK, issue, _delivery_id() or fallback_id)
    return "", 204


@bp.post("/post-function")
@verified_jira()
def post_function() -> tuple[str, int]:
    body = PostFunctionBody().load(_json_body())
    _enqueue(HintSource.JIRA_POST_FUNCTION, body["issue"], _delivery_id())
    return "", 204


def _enqueue(source: HintSource, issue: Mapping[str, Any], event_id: str | None) -> None:
    accept_issue_change(services().queue, g.tenant.id, source, issue, event_id)
    metrics.record_webhook_hint(source.value, "queued")
    log.debug("hint %s for %s on tenant %s", source.value, issue["key"], g.tenant.id)


def _delivery_id() -> str | None:
    value = request.headers.get(DELIVERY_ID_HEADER, "").strip()
    return value[:200] or None


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object", details=["(body): not a JSON object"])
    return body
