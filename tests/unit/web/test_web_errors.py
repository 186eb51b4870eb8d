"""The app's error answers: every one JSON, field paths as the domain writes them (`rules[2].name`)."""

from __future__ import annotations

import psycopg
import sqlalchemy.exc
from flask import Flask
from marshmallow import ValidationError

from hubsync.adapters.store import Store, create_engine
from hubsync.bootstrap import bootstrap
from hubsync.config import Settings
from hubsync.web.errors import register_error_handlers
from hubsync.web.services import EXTENSION, Services
from tests.unit.web.jira_requests import RecordingQueue


def _app_raising(error: Exception) -> Flask:
    """A bare app with the error handlers, on a runtime as `create_app` registers it (the store tells which errors
    mean its database is unavailable)."""
    app = Flask(__name__)
    store = Store(create_engine("sqlite://"))
    app.extensions[EXTENSION] = Services(bootstrap(Settings.from_environment({}), store=store, queue=RecordingQueue()))
    register_error_handlers(app)

    @app.post("/raise")
    def _raise() -> str:
        raise error

    return app


def test_a_validation_error_lists_each_problem_with_its_path_in_the_domains_format() -> None:
    messages = {"rules": {2: {"name": ["Missing data for required field."]}}, "_schema": ["Not a policy."],
                "labels": {0: ["Not a valid string."]}}
    response = _app_raising(ValidationError(messages)).test_client().post("/raise")
    assert response.status_code == 400
    assert response.json == {
        "error": "the request body is not valid",
        "details": ["Not a policy.", "labels[0]: Not a valid string.",
                    "rules[2].name: Missing data for required field."],
    }


def test_an_unexpected_error_is_a_json_500_without_its_details() -> None:
    response = _app_raising(RuntimeError("secret detail")).test_client().post("/raise")
    assert response.status_code == 500
    assert response.json == {"error": "internal error; the service log has the details"}


def test_a_database_that_does_not_answer_is_a_503_to_retry_whatever_layer_raises_it() -> None:
    refused = psycopg.OperationalError("connection refused")
    for error in (refused, sqlalchemy.exc.OperationalError("SELECT 1", {}, refused),
                  sqlalchemy.exc.TimeoutError("QueuePool limit reached")):
        response = _app_raising(error).test_client().post("/raise")
        assert response.status_code == 503, type(error).__name__
        assert response.headers["Retry-After"]
        assert response.json == {"error": "the database is unavailable; retry later"}


def test_a_statement_the_database_refuses_is_still_a_500() -> None:
    error = sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))
    response = _app_raising(error).test_client().post("/raise")
    assert response.status_code == 500
