"""hubsync's Prometheus metrics (prometheus_client, default registry), recorded where the work happens, and the
exposition that `GET /metrics` (and `hubsync worker --metrics-bind`) serve.

    hubsync_events_received_total{type,outcome}    Security Hub events at either door (HTTP intake, SQS), by kind
    hubsync_webhook_hints_total{source,outcome}    Jira webhooks and post functions
    hubsync_syncs_total{rule,outcome}               pairs synced by the worker, by the rule that matched
    hubsync_sync_seconds                            one tenant's share of a worker batch, read + decide + apply
    hubsync_hint_latency_seconds{source}            from a hint's enqueueing to its sync (event → ticket)
    hubsync_hints_settled_total{outcome}            what the worker did with each hint: acked, retried, dead-lettered
    hubsync_queue_depth / _oldest_age_seconds / _up  read from the queue at scrape time (a custom collector)

Labels are small closed sets: no tenant ids, finding keys or ticket keys (an unbounded label would grow the
scraper's memory for ever, and /metrics is public). The API-call metrics live in `hubsync.adapters.api_calls`.

Several processes: counters live in each process. `hubsync serve` runs several gunicorn workers, so it sets
`PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode) and the exposition aggregates every process
that writes there, a `hubsync worker` on the same machine included when given the same directory. A worker on
another machine serves its own (`--metrics-bind`).
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from socketserver import ThreadingMixIn
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

# prometheus_client leaves this constructor unannotated; its signature: (registry, path) → the collector.
_multiprocess_collector: Callable[[CollectorRegistry | None, str], MultiProcessCollector] = MultiProcessCollector


# Event kinds: the detail-types hubsync takes, and "unknown" for a body that never said (bad JSON, no key).
EVENT_TYPES = {
    "Security Hub Findings - Imported": "imported",
    "Security Hub Findings - Custom Action": "custom_action",
    "Findings Imported V2": "imported_v2",
}
UNKNOWN_TYPE = "unknown"

EVENTS_RECEIVED = Counter(
    "hubsync_events_received_total",
    "Security Hub events received (HTTP intake and the EventBridge SQS queue), by type and outcome: queued, "
    "unauthorized, disabled, too_large, invalid, unsupported, unavailable, unrouted (no tenant watches the account), "
    "other_generation (taken, but the tenants read the other Security Hub)",
    ["type", "outcome"],
)
WEBHOOK_HINTS = Counter(
    "hubsync_webhook_hints_total",
    "Jira webhooks and post functions received, by source and outcome: queued, own_change (hubsync's own write), "
    "refused (an admin webhook's delivery failed authentication), ignored_event (an event hubsync did not ask for)",
    ["source", "outcome"],
)
SYNCS = Counter(
    "hubsync_syncs_total",
    "Finding/ticket pairs synced by the worker, by the rule that matched (none: no rule) and outcome: changed, "
    "unchanged, failed",
    ["rule", "outcome"],
)
SYNC_SECONDS = Histogram(
    "hubsync_sync_seconds",
    "Seconds to sync one tenant's share of a worker batch (read both sides, decide, apply)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
HINT_LATENCY = Histogram(
    "hubsync_hint_latency_seconds",
    "Seconds from a hint's enqueueing to the end of its sync, by source (an Imported event to its ticket)",
    ["source"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
HINTS_WAITING = Counter(
    "hubsync_hints_waiting_total",
    "Hints put back because their tenant cannot be synced yet, by reason: forge_token (a Forge app waiting for its "
    "next app token; the hourly trigger or any use of the app in Jira brings one)",
    ["reason"],
)
HINTS_SETTLED = Counter(
    "hubsync_hints_settled_total",
    "Hints the worker settled, by outcome: acked, retried, dead_lettered, dropped (tenant gone or not configured)",
    ["outcome"],
)


def event_type(detail_type: str | None) -> str:
    return EVENT_TYPES.get(detail_type or "", UNKNOWN_TYPE)


def record_events(detail_types: Iterable[str | None], outcome: str) -> None:
    """One count per event (a body may carry several)."""
    for detail_type in detail_types:
        EVENTS_RECEIVED.labels(type=event_type(detail_type), outcome=outcome).inc()


def record_rejected_event(outcome: str) -> None:
    """A request refused before its events were read (auth, size, JSON, schema): one count, type unknown."""
    EVENTS_RECEIVED.labels(type=UNKNOWN_TYPE, outcome=outcome).inc()


# The intake's answer → the outcome counted (see web/events.py for what each answer means).
INTAKE_OUTCOMES = {202: "queued", 400: "invalid", 401: "unauthorized", 403: "disabled", 413: "too_large",
                   422: "unsupported", 503: "unavailable"}


def record_intake(status: int, detail_types: Sequence[str] | None, other_generation: Sequence[str] | None) -> None:
    """One answer of the HTTP intake: per event when the body was read as events, else once (type unknown). Events
    of the generation the tenant does not read (`other_generation`) count as such when the request was taken, else
    with its outcome (EventBridge sends them again)."""
    outcome = INTAKE_OUTCOMES.get(status, "error")
    if not detail_types and not other_generation:
        record_rejected_event(outcome)
        return
    record_events(detail_types or (), outcome)
    record_events(other_generation or (), "other_generation" if status == 202 else outcome)


def record_hints_waiting(reason: str, count: int) -> None:
    HINTS_WAITING.labels(reason=reason).inc(count)


def record_webhook_hint(source: str, outcome: str) -> None:
    WEBHOOK_HINTS.labels(source=source, outcome=outcome).inc()


class _Outcome(Protocol):  # read-only members: a frozen `service.sync.Outcome` is one
    @property
    def rule(self) -> int | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def actions(self) -> tuple[str, ...]: ...


def record_syncs(outcomes: Sequence[_Outcome], seconds: float) -> None:
    """One tenant's batch: its duration, and each pair's rule and outcome."""
    SYNC_SECONDS.observe(seconds)
    for outcome in outcomes:
        state = "failed" if outcome.error else "changed" if outcome.actions else "unchanged"
        SYNCS.labels(rule=str(outcome.rule) if outcome.rule is not None else "none", outcome=state).inc()


class _Delivery(Protocol):  # read-only members: a frozen `adapters.queue.Delivery` is one
    @property
    def hint(self) -> Any: ...
    @property
    def enqueued_at(self) -> datetime | None: ...


def record_hints_synced(deliveries: Iterable[_Delivery], now: datetime) -> None:
    """Each synced hint's time on the queue and in the sync, by source."""
    for delivery in deliveries:
        if delivery.enqueued_at is not None:
            seconds = max(0.0, (now - delivery.enqueued_at).total_seconds())
            HINT_LATENCY.labels(source=str(delivery.hint.source.value)).observe(seconds)


class _BatchReport(Protocol):
    acked: int
    retried: int
    dead: int
    dropped: int


def record_settled(report: _BatchReport) -> None:
    """What the worker did with one batch's hints."""
    for outcome, count in (("acked", report.acked), ("retried", report.retried),
                           ("dead_lettered", report.dead), ("dropped", report.dropped)):
        if count:
            HINTS_SETTLED.labels(outcome=outcome).inc(count)


# -- the queue, read at scrape time ---------------------------------------------------------------------------


class QueueCollector:
    """`hubsync_queue_depth` (hints waiting or in flight), `hubsync_queue_oldest_age_seconds` (the oldest one's
    wait; absent when the queue cannot tell, e.g. SQS, whose CloudWatch metric ApproximateAgeOfOldestMessage says
    it) and `hubsync_queue_up` (0 when the queue did not answer: the scrape still succeeds)."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue

    def collect(self) -> Iterator[Metric]:
        depth_of = getattr(self._queue, "depth", None)
        if not callable(depth_of):
            return
        up = GaugeMetricFamily("hubsync_queue_up", "1 when the hint queue answered the scrape's questions")
        try:
            depth = depth_of()
            oldest_of = getattr(self._queue, "oldest_age", None)
            oldest = oldest_of() if callable(oldest_of) else None
        except Exception as exc:  # an unreachable queue is a reading of 0, not a failed scrape
            log.warning("metrics: the queue did not answer: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("hubsync_queue_depth", "Hints waiting or in flight on the queue", value=depth)
        if oldest is not None:
            yield GaugeMetricFamily(
                "hubsync_queue_oldest_age_seconds", "Seconds the oldest waiting hint has been queued", value=oldest
            )


class _Exposition:
    """What one scrape shows: this process's metrics (or, in multiprocess mode, every process's) and the queue."""

    def __init__(self, queue: Any, multiprocess_dir: str | None) -> None:
        self._queue = queue
        self._multiprocess_dir = multiprocess_dir

    def collect(self) -> Iterator[Metric]:
        directory = self._multiprocess_dir
        source = _multiprocess_collector(None, directory) if directory else REGISTRY
        yield from source.collect()
        if self._queue is not None:
            yield from QueueCollector(self._queue).collect()


def exposition(queue: Any = None, multiprocess_dir: str | None = None) -> tuple[bytes, str]:
    """The Prometheus text format body and its content type; `multiprocess_dir` (PROMETHEUS_MULTIPROC_DIR, set
    by `hubsync serve` for its several processes) adds up every process's counts."""
    return generate_latest(_Exposition(queue, multiprocess_dir)), CONTENT_TYPE_LATEST


def token_allows(expected: str | None, authorization: str | None) -> bool:
    """No token configured: anyone may scrape. Otherwise `Authorization: Bearer <token>`, compared in constant
    time."""
    if not expected:
        return True
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), expected.encode())


# -- a worker's own endpoint ---------------------------------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # scrapes every few seconds are not news
        pass


def metrics_app(
    queue: Any = None, token: str | None = None, multiprocess_dir: str | None = None
) -> Callable[..., Iterable[bytes]]:
    """A WSGI app answering `GET /metrics` like the web app does (same token rule), for `hubsync worker`."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics" or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"error": "only GET /metrics is served here"}']
        if not token_allows(token, environ.get("HTTP_AUTHORIZATION")):
            start_response("401 Unauthorized", [("Content-Type", "application/json"),
                                                ("WWW-Authenticate", 'Bearer realm="hubsync metrics"')])
            return [b'{"error": "send the metrics token as Authorization: Bearer <token>"}']
        body, content_type = exposition(queue, multiprocess_dir)
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    return app


class _MetricsServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve_metrics(
    host: str, port: int, queue: Any = None, token: str | None = None, multiprocess_dir: str | None = None
) -> WSGIServer:
    """Serve `metrics_app` on a daemon thread; `shutdown()` the returned server to stop it."""
    app = metrics_app(queue, token, multiprocess_dir)
    server = make_server(host, port, app, server_class=_MetricsServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="hubsync-metrics", daemon=True).start()
    return server
