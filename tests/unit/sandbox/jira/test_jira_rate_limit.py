"""The Jira simulator's rate-limit knob: the site's REST requests share a budget; past it, 429 with the headers
Jira Cloud sends (every answer checked against the OpenAPI documents by the fixture)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hubsync_sandbox.knobs import Admission, RateLimit
from tests.fixtures.jira import JiraSandbox


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_the_budget_refills_at_its_rate_up_to_its_burst() -> None:
    clock = Clock()
    limit = RateLimit(clock)
    assert limit.admit() is None  # off by default
    limit.configure(2, 3)

    assert [limit.admit() for _ in range(4)] == [
        Admission(True, 3, 2, 0.0), Admission(True, 3, 1, 0.0), Admission(True, 3, 0, 0.0),
        Admission(False, 3, 0, 0.5),
    ]
    clock.now += 0.5
    assert limit.admit() == Admission(True, 3, 0, 0.0)
    clock.now += 100
    assert [a.admitted for a in (limit.admit() for _ in range(4))] == [True, True, True, False]
    limit.configure(None)
    assert limit.admit() is None


def test_past_the_budget_jira_answers_429_with_its_rate_limit_headers(jira_cloud: JiraSandbox) -> None:
    assert jira_cloud.control("POST", "rate-limit", json={"rate": 1, "burst": 2}).json() == {"rate": 1, "burst": 2}
    bot = jira_cloud.session()

    answers = [bot.get(f"{jira_cloud.rest}/myself") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    first, second, refused = answers
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
    assert "X-RateLimit-NearLimit" not in first.headers
    assert second.headers["X-RateLimit-Remaining"] == "0"
    assert second.headers["X-RateLimit-NearLimit"] == "true"
    assert refused.json() == {"errorMessages": ["Rate limit exceeded."], "errors": {}}
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Reason"] == "jira-burst-based"
    reset = datetime.strptime(refused.headers["X-RateLimit-Reset"], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    assert reset >= datetime.now(UTC).replace(second=0, microsecond=0)
    counted = jira_cloud.control("GET", "counters").json()
    assert counted == {"GET /rest/api/3/myself": 3}  # the refused request was seen too


def test_the_limit_spares_the_control_api_and_can_be_lifted(jira_dc: JiraSandbox) -> None:
    jira_dc.control("POST", "rate-limit", json={"rate": 0.5})
    bot = jira_dc.session()
    assert bot.get(f"{jira_dc.rest}/myself").status_code == 200
    assert bot.get(f"{jira_dc.rest}/myself").status_code == 429
    assert jira_dc.control("GET", "rate-limit").json() == {"rate": 0.5, "burst": 1}

    assert jira_dc.control("DELETE", "rate-limit").status_code == 204

    assert jira_dc.control("GET", "rate-limit").json() == {"rate": None, "burst": None}
    response = bot.get(f"{jira_dc.rest}/myself")
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response.headers


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"burst": 3}, "body must be"),
        ({"rate": 0}, "rate must be"),
        ({"rate": "fast"}, "rate must be"),
        ({"rate": 5, "burst": 0}, "burst must be"),
        ({"rate": 5, "burst": 2.5}, "burst must be"),
        ({"rate": 5, "per": "minute"}, "unknown fields"),
    ],
)
def test_a_bad_limit_is_refused_saying_why(jira_cloud: JiraSandbox, body: dict[str, object], error: str) -> None:
    response = jira_cloud.control("POST", "rate-limit", json=body)
    assert response.status_code == 400
    assert error in response.json()["error"]
