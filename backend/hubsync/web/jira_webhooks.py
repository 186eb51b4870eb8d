"""Deliveries of the admin webhook hubsync registers on a Data Center or API-token Cloud site
(`service.jira_webhooks.register`):

- `POST /webhooks/jira/<tenant>`: sites that sign (Cloud, Data Center 10+); `X-Hub-Signature: sha256=<hex>` must be
  the HMAC-SHA256 of the raw body under the tenant's webhook secret;
- `POST /webhooks/jira/<tenant>/<token>`: Data Center 9, which cannot sign; the token must be the tenant's current
  URL token, or the previous one within its grace period after a rotation.

The body is authenticated before it is parsed. A missing or wrong signature or token is a 401 with nothing queued,
and so is an unknown tenant or one without a webhook: the answer is the same, so that it tells no one which
tenants exist. Then: 403 the tenant is disabled, 413 a body over 1 MiB, 400 not JSON or no issue in it, 503 the
queue cannot take the hint (Cloud delivers again; Data Center does not, and the periodic reconcile catches up),
else 204 (Jira counts 200 and 204 as delivered) with one hint for the issue, named by its `hubsync.finding`
property when the payload carries it, else by its key. A redelivery (the same `X-Atlassian-Webhook-Identifier`,
or on Data Center, which sends none, the same event, issue and timestamp) is dropped by the queue.

hubsync's own changes come back too: on these sites hubsync calls Jira as a user account (an API token's or a
personal access token's), often a person's, so a delivery naming that account may be a person's own decision. It
is queued like any other; the sync reads both sides and, for hubsync's own write, finds nothing to do.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, request
from marshmallow import fields

from hubsync import metrics
from hubsync.domain.hint import HintSource
from hubsync.domain.jira_webhook import SIGNATURE_HEADER
from hubsync.service.jira_webhooks import accept_delivery, authentic
from hubsync.service.json_input import load_json
from hubsync.web.errors import error_response
from hubsync.web.hooks import DELIVERY_ID_HEADER, IssueRef, Lenient
from hubsync.web.services import services

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # an issue with its fields and changelog; Jira's payloads stay far below
TENANT_ID_MAX = 64
SOURCE = HintSource.JIRA_ADMIN_WEBHOOK.value
REDACTED = "***"

bp = Blueprint("jira_webhooks", __name__, url_prefix="/webhooks/jira")


class DeliveryBody(Lenient):
    webhookEvent = fields.String(required=True)
    timestamp = fields.Integer(load_default=None)
    issue = fields.Nested(IssueRef, required=True)


@bp.post("/<tenant_id>")
def signed_delivery(tenant_id: str) -> Response | tuple[str, int]:
    return _deliver(tenant_id, None)


@bp.post("/<tenant_id>/<token>")
def token_delivery(tenant_id: str, token: str) -> Response | tuple[str, int]:
    # The access log (gunicorn's %(U)s, read from this environ once the answer is sent) shows the path without
    # the token: it is a credential.
    request.environ["PATH_INFO"] = f"{bp.url_prefix}/{tenant_id}/{REDACTED}"
    return _deliver(tenant_id, token)


def _deliver(tenant_id: str, token: str | None) -> Response | tuple[str, int]:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _too_large()
    raw = request.stream.read(MAX_BODY_BYTES + 1)  # bounded even without a Content-Length (chunked)
    if len(raw) > MAX_BODY_BYTES:
        return _too_large()
    runtime = services().runtime
    with runtime.store.read() as uow:
        tenant = uow.tenants.get(tenant_id) if len(tenant_id) <= TENANT_ID_MAX else None
    # checked whether the tenant exists or not, so that both cost the same
    valid = authentic(tenant, raw, signature=request.headers.get(SIGNATURE_HEADER), token=token, now=runtime.clock())
    if tenant is None or not valid:
        metrics.record_webhook_hint(SOURCE, "refused")
        log.info("Jira webhook delivery refused: %s", "no valid URL token" if token is not None else
                 f"no valid {SIGNATURE_HEADER}")
        if token is not None:
            return error_response(401, "unknown or expired webhook URL: register the webhook again "
                                       "(`hubsync tenant webhook --register`)")
        return error_response(401, f"missing or wrong {SIGNATURE_HEADER}: the body must be signed with the "
                                   "tenant's webhook secret (sha256=<hex HMAC>)")
    if not tenant.enabled:
        return error_response(403, "this tenant is disabled: hubsync takes no deliveries for it")
    try:
        parsed = load_json(raw)
    except ValueError as exc:  # malformed, not UTF-8, or nested too deeply
        return error_response(400, "the body is not JSON", details=[f"(body): {exc}"])
    if not isinstance(parsed, dict):
        return error_response(400, "the body must be a JSON object", details=["(body): not a JSON object"])
    body: dict[str, Any] = DeliveryBody().load(parsed)  # a ValidationError is a 400 naming the fields
    delivery_id = request.headers.get(DELIVERY_ID_HEADER, "").strip()[:200] or None
    hint = accept_delivery(runtime.queue, tenant.id, body["webhookEvent"], body["issue"], delivery_id=delivery_id,
                           timestamp=body["timestamp"])
    metrics.record_webhook_hint(SOURCE, "queued" if hint is not None else "ignored_event")
    if hint is None:
        log.info("tenant %s: Jira webhook event %.64r is not one hubsync registered for; ignored", tenant.id,
                 body["webhookEvent"])
    return "", 204


def _too_large() -> Response:
    return error_response(413, f"the body is over {MAX_BODY_BYTES} bytes")
