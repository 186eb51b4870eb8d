"""The simulator's Connect JWT checking against Atlassian's interoperability vectors (78 signed URLs).

Each case gives a signed URL and the canonical request Atlassian's own library computed for it. The
simulator must derive the same canonical request, accept every signed URL, and reject the URL once it is
tampered with or the token is signed with another secret.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from hubsync.sandbox.jira.connect_jwt import JwtRejected, canonical_request, token_from, verify_hs256

pytestmark = pytest.mark.specs


@pytest.fixture(scope="module")
def cases(specs_dir: Path) -> list[dict[str, Any]]:
    """Each case with the shared secret, its request target relative to the base URL, token and issuer."""
    vectors = json.loads((specs_dir / "atlassian-jwt-signed-urls.json").read_text(encoding="utf-8"))
    result = []
    for case in vectors["tests"]:
        parts = urlsplit(case["signedUrl"])
        token = parse_qs(parts.query)["jwt"][0]
        result.append(
            {
                "name": case["name"],
                "canonical": case["canonicalUrl"],
                "target": case["signedUrl"][len(f"{parts.scheme}://{parts.netloc}") :],
                "token": token,
                "issuer": jwt.decode(token, options={"verify_signature": False})["iss"],
                "secret": vectors["secret"],
            }
        )
    return result


def _rejection(target: str, token: str, issuer: str, secret: str) -> str | None:
    """Why the simulator refuses a signed GET of `target` (None when it accepts it).

    The token is taken from the `jwt` query parameter and verified as the simulator verifies any request,
    with the clock inside the token's validity.
    """
    found = token_from(None, parse_qs(urlsplit(target).query).get("jwt", [None])[0])
    assert found == token
    iat = jwt.decode(token, options={"verify_signature": False})["iat"]
    try:
        verify_hs256(found, lambda iss: secret if iss == issuer else None, "GET", target, now=iat + 1)
    except JwtRejected as exc:
        return str(exc)
    return None


def _tamperings(target: str) -> dict[str, str]:
    """The same signed request with a parameter added, a parameter value changed, or the path changed."""
    path, _, query = target.partition("?")
    params = [p for p in query.split("&") if not p.startswith("jwt=")]
    signature = next(p for p in query.split("&") if p.startswith("jwt="))
    tampered = {
        "added parameter": f"{path}?{'&'.join([*params, 'extra=1', signature])}",
        "changed path": f"{path.rstrip('/')}-other?{query}",
    }
    if params:
        tampered["changed parameter"] = f"{path}?{'&'.join([params[0] + 'x', *params[1:], signature])}"
    return tampered


def test_all_78_cases_are_present(cases: list[dict[str, Any]]) -> None:
    assert len(cases) == 78


def test_canonical_request_matches_atlassians(cases: list[dict[str, Any]]) -> None:
    for case in cases:
        assert canonical_request("GET", case["target"]) == case["canonical"], case["name"]


def test_every_signed_url_verifies(cases: list[dict[str, Any]]) -> None:
    for case in cases:
        reason = _rejection(case["target"], case["token"], case["issuer"], case["secret"])
        assert reason is None, f"{case['name']}: {reason}"


def test_tampered_urls_are_rejected(cases: list[dict[str, Any]]) -> None:
    for case in cases:
        for how, tampered in _tamperings(case["target"]).items():
            assert canonical_request("GET", tampered) != case["canonical"], f"{case['name']}: {how}"
            reason = _rejection(tampered, case["token"], case["issuer"], case["secret"])
            assert reason is not None and "qsh" in reason, f"{case['name']}: {how} was accepted ({reason})"


def test_a_token_signed_with_another_secret_is_rejected(cases: list[dict[str, Any]]) -> None:
    for case in cases:
        reason = _rejection(case["target"], case["token"], case["issuer"], "another-shared-secret-at-least-32-bytes-long")
        assert reason is not None and "signature" in reason, f"{case['name']}: {reason}"
