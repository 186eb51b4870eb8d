"""Every HTTP request hubsync sends to another service, counted by service, operation and status, and timed.

The adapters call `record()` once per request they send (retries included, as the other side counts them); the
metrics live in prometheus_client's default registry, which the web app serves on `/metrics`:

    hubsync_api_calls_total{service="securityhub", operation="BatchUpdateFindings", status="200"}
    hubsync_api_call_seconds_bucket{service="jira", operation="create_tickets", le="0.25"}

`status` is the HTTP status ("200", "429") or "error" when no answer came (connection refused, timeout).
Operations are the adapters' own small vocabularies (botocore operation names, the Jira client's operations),
never URLs, so the label sets stay few.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, Counter, Histogram

__all__ = ["CALLS", "REGISTRY", "SECONDS", "record"]

NO_ANSWER = "error"

CALLS = Counter(
    "hubsync_api_calls",  # exposed as hubsync_api_calls_total
    "HTTP requests hubsync sent to other services (retries included), by service, operation and status.",
    ["service", "operation", "status"],
)
SECONDS = Histogram(
    "hubsync_api_call_seconds",
    "Time from sending a request to another service to its answer, rate-limit waits excluded.",
    ["service", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def record(service: str, operation: str, status: int | str | None, seconds: float) -> None:
    """One request to `service` answered with `status` (None: no answer) after `seconds`."""
    CALLS.labels(service, operation, NO_ANSWER if status is None else str(status)).inc()
    SECONDS.labels(service, operation).observe(max(0.0, seconds))
