"""Probes: /healthz when the process answers, /readyz when the database (and the queue, if it can tell) answer."""

from __future__ import annotations

import dataclasses

from flask import Flask
from flask.testing import FlaskClient

from hubsync.adapters.store import SecretBox, Store, create_engine
from hubsync.sandbox.httpserver import free_port
from hubsync.web.services import EXTENSION
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
    app.extensions[EXTENSION] = dataclasses.replace(app.extensions[EXTENSION], store=unreachable)
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
