"""The simulator's Connect JWT checking against Atlassian's interoperability vectors (78 signed URLs).

Each case gives a signed URL and the canonical request Atlassian's own library computed for it. The
simulator must derive the same canonical request from the request as it arrives, accept every signed URL,
and reject it once it is tampered with or the token is signed with another secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from flask import Flask, request

from hubsync_sandbox.jira.auth import relative_path_and_query
from hubsync_sandbox.jira.connect_jwt import JwtRejected, canonical_request, token_from, verify_hs256
from hubsync_sandbox.jira.world import JiraWorld

pytestmark = pytest.mark.specs

OTHER_SECRET = "a-shared-secret-that-did-not-sign-these-urls"
Arrive = Callable[[str], tuple[str, str | None]]


@pytest.fixture(scope="module")
def vectors(specs_dir: Path) -> dict[str, Any]:
    return json.loads((specs_dir / "atlassian-jwt-signed-urls.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def arrive() -> Arrive:
    """Turn a signed URL into what the Jira simulator verifies: (request target relative to the site, token)."""
    site = JiraWorld("cloud", "https://example.com")  # the vectors' host
    app = Flask(__name__)

    def target_and_token(url: str) -> tuple[str, str | None]:
        with app.test_request_context(url):
            token = token_from(request.headers.get("Authorization"), request.args.get("jwt"))
            return relative_path_and_query(site, request), token

    return target_and_token


def _rejection(arrive: Arrive, url: str, issuer: str, secret: str) -> str | None:
    """Why the simulator refuses a GET of `url` (None when it accepts it), its clock inside the token's life."""
    target, token = arrive(url)
    assert token is not None
    iat = jwt.decode(token, options={"verify_signature": False})["iat"]
    try:
        verify_hs256(token, lambda iss: secret if iss == issuer else None, "GET", target, now=iat + 1)
    except JwtRejected as exc:
        return str(exc)
    return None


def _issuer(url: str) -> str:
    token = parse_qs(urlsplit(url).query)["jwt"][0]
    return jwt.decode(token, options={"verify_signature": False})["iss"]


def _tamperings(url: str) -> dict[str, str]:
    """The same signed URL with a parameter added, a parameter value changed, or the path changed."""
    base, _, query = url.partition("?")
    params = [p for p in query.split("&") if not p.startswith("jwt=")]
    signature = next(p for p in query.split("&") if p.startswith("jwt="))
    tampered = {
        "added parameter": f"{base}?{'&'.join([*params, 'extra=1', signature])}",
        "changed path": f"{base.rstrip('/')}-other?{query}",
    }
    if params:
        tampered["changed parameter"] = f"{base}?{'&'.join([params[0] + 'x', *params[1:], signature])}"
    return tampered


def test_all_78_cases_are_present(vectors: dict[str, Any]) -> None:
    assert len(vectors["tests"]) == 78


def test_canonical_request_matches_atlassians(vectors: dict[str, Any], arrive: Arrive) -> None:
    for case in vectors["tests"]:
        target, _ = arrive(case["signedUrl"])
        assert canonical_request("GET", target) == case["canonicalUrl"], case["name"]


def test_every_signed_url_verifies(vectors: dict[str, Any], arrive: Arrive) -> None:
    for case in vectors["tests"]:
        reason = _rejection(arrive, case["signedUrl"], _issuer(case["signedUrl"]), vectors["secret"])
        assert reason is None, f"{case['name']}: {reason}"


def test_tampered_urls_are_rejected(vectors: dict[str, Any], arrive: Arrive) -> None:
    for case in vectors["tests"]:
        issuer = _issuer(case["signedUrl"])
        for how, tampered in _tamperings(case["signedUrl"]).items():
            assert canonical_request("GET", arrive(tampered)[0]) != case["canonicalUrl"], f"{case['name']}: {how}"
            reason = _rejection(arrive, tampered, issuer, vectors["secret"])
            assert reason is not None and "qsh" in reason, f"{case['name']}: {how} was accepted ({reason})"


def test_a_token_signed_with_another_secret_is_rejected(vectors: dict[str, Any], arrive: Arrive) -> None:
    for case in vectors["tests"]:
        reason = _rejection(arrive, case["signedUrl"], _issuer(case["signedUrl"]), OTHER_SECRET)
        assert reason is not None and "signature" in reason, f"{case['name']}: {reason}"
