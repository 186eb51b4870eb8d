"""`POST /events/securityhub/<tenant>`: the target of the tenant's EventBridge API destination.

Set the destination's connection to API-key authorization with header `X-Hubsync-Api-Key` and the tenant's events
key (the configure page shows it once, when it is generated). hubsync takes Security Hub CSPM's "Security Hub
Findings - Imported" and "Security Hub Findings - Custom Action" events and the new Security Hub's "Findings
Imported V2", puts one hint per finding on the queue and answers 202 once the hints are durably queued; the event
id makes a redelivery a no-op.

A tenant syncs with one Security Hub (its `securityhub_generation`); an account running both sends both kinds of
event. An event of the other generation is accepted with the rest (a refusal would only make EventBridge retry
or dead-letter it) and queues nothing: the answer's `otherGeneration` counts such events, the metric counts them
with the outcome `other_generation`, and the request logs their number at info.

Answers: 202 taken (`{"accepted": events, "hints": hints queued, "otherGeneration": events of the other
generation}`); 400 not Security Hub events (`details` lists every problem); 401 missing or wrong key (also for an
unknown tenant: nothing tells a caller which tenants exist); 403 tenant disabled; 413 body over 1 MiB; 422 an
event of a detail-type hubsync does not take; 503 the queue is unavailable (EventBridge retries 5xx and 429, not
other 4xx).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, g, jsonify, request

from hubsync import metrics
from hubsync.domain.ports import QueueUnavailable
from hubsync.service.intake import API_KEY_HEADER, InvalidEvent, UnsupportedEvent, hints_for, parse_events, reads
from hubsync.service.json_input import load_json
from hubsync.web.errors import error_response, retry_later
from hubsync.web.services import services

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # EventBridge sends at most 256 KB per event; arrays of events get some room
TENANT_ID_MAX = 64

bp = Blueprint("events", __name__, url_prefix="/events")


@bp.after_request
def _count(response: Response) -> Response:
    metrics.record_intake(response.status_code, g.get("event_types"), g.get("other_generation"))
    return response


@bp.post("/securityhub/<tenant_id>")
def securityhub_events(tenant_id: str) -> Response:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _too_large()
    store = services().store
    presented = request.headers.get(API_KEY_HEADER, "")
    with store.read() as uow:
        valid = len(tenant_id) <= TENANT_ID_MAX and uow.tenants.verify_events_api_key(tenant_id, presented)
        tenant = uow.tenants.get(tenant_id) if valid else None
    if tenant is None:
        return error_response(401, f"missing or wrong API key: send the tenant's events key in {API_KEY_HEADER}")
    if not tenant.enabled:
        return error_response(403, "this tenant is disabled: hubsync takes no events for it")
    raw = request.stream.read(MAX_BODY_BYTES + 1)  # bounded even without a Content-Length (chunked)
    if len(raw) > MAX_BODY_BYTES:
        return _too_large()
    try:
        body = load_json(raw)
    except ValueError as exc:  # malformed, not UTF-8, or nested too deeply
        return error_response(400, "the body is not JSON", details=[f"(body): {exc}"])
    try:
        events = parse_events(body)
    except InvalidEvent as exc:
        return error_response(400, "the body is not Security Hub events", details=exc.lines)
    except UnsupportedEvent as exc:
        return error_response(422, str(exc))
    taken = [event for event in events if reads(tenant, event)]
    g.event_types = [event.detail_type for event in taken]
    g.other_generation = [event.detail_type for event in events if not reads(tenant, event)]
    hints = hints_for(tenant.id, taken)
    try:
        services().queue.put(hints)
    except QueueUnavailable as exc:
        log.warning("events of tenant %s not queued: %s", tenant.id, exc)
        return retry_later()
    if g.other_generation:
        log.info("tenant %s reads Security Hub %s: %d events of the other generation accepted, not queued",
                 tenant.id, tenant.securityhub_generation.value, len(g.other_generation))
    log.info("tenant %s: queued %d hints from events %s", tenant.id, len(hints), [event.id for event in taken])
    response = jsonify(accepted=len(events), hints=len(hints), otherGeneration=len(g.other_generation))
    response.status_code = 202
    return response


def _too_large() -> Response:
    return error_response(413, f"the body is over {MAX_BODY_BYTES} bytes")
