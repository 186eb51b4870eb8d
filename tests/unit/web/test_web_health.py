"""Probes: /healthz when the process answers, /readyz when the database (and the queue, if it can tell) answer;
/metrics in Prometheus' text format, behind a token when one is set."""

from __future__ import annotations

import dataclasses

from flask import Flask
from flask.testing import FlaskClient

from hubsync.adapters.store import SecretBox, Store, create_engine
from hubsync.domain.tenant import Tenant
from hubsync.web.services import EXTENSION
from hubsync_sandbox.httpserver import free_port
from tests.unit.web.jira_requests import SECRET_KEY, RecordingQueue


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "ok"})


def test_readyz_when_everything_answers(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "queue": "ok"}


def test_readyz_names_a_queue_that_is_down(client: FlaskClient, queue: RecordingQueue) -> None:
    queue.ready_answer = ConnectionError("sqs unreachable")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["error"] == "not ready: queue unreachable"


def test_readyz_names_a_database_that_is_down(app: Flask, client: FlaskClient) -> None:
    nobody = f"postgresql+psycopg://hubsync@127.0.0.1:{free_port()}/hubsync"  # a port no database listens on
    unreachable = Store(create_engine(nobody), SecretBox([SECRET_KEY]))
    app.extensions[EXTENSION].runtime.store = unreachable
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "down"
    assert "127.0.0.1" not in response.get_data(as_text=True)  # no details of the infrastructure


def test_every_error_is_json(client: FlaskClient) -> None:
    assert client.get("/no/such/page").json["error"]
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.json["error"]
    assert "GET" in response.headers["Allow"]


# -- /metrics ----------------------------------------------------------------------------------------------------

METRICS_TOKEN = "metrics-token-for-the-scraper-0123456789"


def _count(client: FlaskClient, detail_type: str, outcome: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    line = f'hubsync_events_received_total{{outcome="{outcome}",type="{detail_type}"}} '
    found = [row for row in text.splitlines() if row.startswith(line)]
    return float(found[0].split()[-1]) if found else 0.0


def test_metrics_in_the_prometheus_text_format(client: FlaskClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for family in ("hubsync_events_received_total", "hubsync_syncs_total", "hubsync_webhook_hints_total"):
        assert f"# TYPE {family} counter" in text
    assert "# TYPE hubsync_hint_latency_seconds histogram" in text


def test_metrics_count_the_intakes_answers(client: FlaskClient, tenant: Tenant) -> None:
    before = _count(client, "unknown", "unauthorized")
    client.post(f"/events/securityhub/{tenant.id}", json={"detail-type": "x"}, headers={"X-Hubsync-Api-Key": "wrong"})
    assert _count(client, "unknown", "unauthorized") == before + 1


def test_metrics_need_the_token_when_one_is_set(app: Flask, client: FlaskClient) -> None:
    runtime = app.extensions[EXTENSION].runtime  # as Settings reads HUBSYNC_METRICS_TOKEN from the environment
    runtime.settings = dataclasses.replace(runtime.settings, metrics_token=METRICS_TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {METRICS_TOKEN}"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.json["error"] and "hubsync_" not in refused.get_data(as_text=True)
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    served = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert served.status_code == 200 and "hubsync_events_received_total" in served.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200  # the probes stay open


def test_metrics_show_the_queue_when_it_can_tell(app: Flask, client: FlaskClient, store: Store, tenant: Tenant) -> None:
    from hubsync.adapters.queue import LocalQueue
    from hubsync.domain.hint import HintSource, SyncHint
    from tests.integration.store.builders import finding

    queue = LocalQueue(store.engine)
    queue.put([SyncHint(tenant.id, HintSource.JIRA_WEBHOOK, ticket_key="SEC-1"),
               SyncHint(tenant.id, HintSource.SECURITYHUB_IMPORTED, finding=finding(1))])
    app.extensions[EXTENSION].runtime.queue = queue
    text = client.get("/metrics").get_data(as_text=True)
    assert "hubsync_queue_depth 2.0" in text
    assert "hubsync_queue_up 1.0" in text
    assert "hubsync_queue_oldest_age_seconds" in text
    assert client.get("/readyz").json["checks"] == {"database": "ok", "queue": "ok"}
