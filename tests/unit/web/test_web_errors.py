"""The app's error answers: every one JSON, field paths as the domain writes them (`rules[2].name`)."""

from __future__ import annotations

from flask import Flask
from marshmallow import ValidationError

from hubsync.web.errors import register_error_handlers


def _app_raising(error: Exception) -> Flask:
    app = Flask(__name__)
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
