"""Every parser of outside input raises only its documented error, whatever it is given: ASFF and OCSF findings
(`InvalidFinding`), EventBridge events (`InvalidEvent`, `UnsupportedEvent`), Jira's webhook and post-function
bodies (marshmallow's `ValidationError`), the settings form (`InvalidSettings`), the policy (`InvalidPolicy`), Jira's
JWTs and Atlassian's install tokens (`JiraAuthError`), and the install-key server's key ids
(`InstallKeyUnavailable`)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from hubsync.adapters.connect_keys import HttpInstallKeys, InstallKeyUnavailable
from hubsync.adapters.securityhub import ocsf
from hubsync.adapters.securityhub.asff import parse_finding
from hubsync.domain.finding import InvalidFinding
from hubsync.domain.policy_schema import InvalidPolicy, dump_policy, load_policy
from hubsync.domain.tenant import Tenant
from hubsync.service.intake import InvalidEvent, UnsupportedEvent, hints_for, parse_event_body, parse_events
from hubsync.service.jira_changes import finding_of
from hubsync.service.settings import InvalidSettings, parse_aws_settings, parse_settings
from hubsync.web.connect import LifecyclePayload, _verified_install_token
from hubsync.web.hooks import PostFunctionBody, WebhookBody
from hubsync.web.jira_auth import JiraAuthError, verify_jira_request
from tests.fixtures.securityhub import make_finding
from tests.unit.adapters.aws.test_ocsf import compliance_finding, vulnerability_finding
from tests.unit.fuzz.strategies import FUZZ, bodies, json_values, jwt_like, keys, mutated, segment
from tests.unit.fuzz.test_fuzz_routes import CUSTOM_ACTION, EVENT, EVENT_V2, POST_FUNCTION, SETTINGS, WEBHOOK
from tests.unit.web.jira_requests import CLIENT_KEY, SHARED_SECRET, install_token, lifecycle_body

FINDING = {**make_finding(), "Id": "arn:aws:securityhub:eu-west-1:111122223333:finding/f-1"}
POLICY = {
    "project_key": "SEC", "issue_type": "Task", "labels": ["security-hub"], "risk_acceptance_days": 30,
    "rules": [{"name": "critical", "min_severity": "CRITICAL", "account_ids": ["111122223333"],
               "regions": ["eu-west-1"], "security_control_ids": ["EC2.2"]}],
    "priorities": {"CRITICAL": "Highest", "HIGH": "High", "MEDIUM": "Medium", "LOW": "Low",
                   "INFORMATIONAL": "Lowest"},
    "status_dispositions": {"Done": "FIXED", "Risk accepted": "ACCEPTED"},
}


@FUZZ
@given(st.one_of(mutated(FINDING), mutated(FINDING), json_values))
def test_an_asff_finding_parses_or_is_invalid(data: Any) -> None:
    try:
        parse_finding(data)
    except InvalidFinding as invalid:
        assert str(invalid)


@FUZZ
@given(st.one_of(mutated(compliance_finding()), mutated(vulnerability_finding()), json_values))
def test_an_ocsf_finding_parses_or_is_invalid(data: Any) -> None:
    try:
        ocsf.parse_finding(data)
    except InvalidFinding as invalid:
        assert str(invalid)


@FUZZ
@given(st.one_of(mutated(EVENT), mutated([EVENT, CUSTOM_ACTION, EVENT_V2]), mutated(CUSTOM_ACTION),
                 mutated(EVENT_V2), json_values))
def test_events_parse_or_are_invalid_or_unsupported(body: Any) -> None:
    try:
        events = parse_events(body)
    except (InvalidEvent, UnsupportedEvent) as refused:
        assert str(refused)
        return
    assert all(len(hint.event_id or "") <= 255 for hint in hints_for("tenant", events))


@FUZZ
@given(bodies(EVENT, CUSTOM_ACTION, EVENT_V2))
def test_a_raw_event_body_parses_or_is_invalid_or_unsupported(raw: bytes) -> None:
    try:
        parse_event_body(raw)
    except (InvalidEvent, UnsupportedEvent) as refused:
        assert str(refused)


@FUZZ
@given(st.one_of(mutated(WEBHOOK), mutated(POST_FUNCTION), json_values))
def test_webhook_and_post_function_bodies_load_or_are_invalid(body: Any) -> None:
    for schema in (WebhookBody(), PostFunctionBody()):
        try:
            loaded = schema.load(body)
        except ValidationError as invalid:
            assert invalid.normalized_messages()
            continue
        finding_of(loaded["issue"].get("properties"))


@FUZZ
@given(st.one_of(mutated(lifecycle_body("installed")), json_values))
def test_a_lifecycle_body_loads_or_is_invalid(body: Any) -> None:
    try:
        LifecyclePayload().load(body)
    except ValidationError as invalid:
        assert invalid.normalized_messages()


@FUZZ
@given(st.one_of(mutated(SETTINGS), mutated({**SETTINGS, "policy": POLICY}), json_values))
def test_settings_parse_or_are_invalid_by_field(data: Any) -> None:
    try:
        parse_settings(data)
    except InvalidSettings as invalid:
        assert invalid.fields and all(isinstance(path, str) for path in invalid.fields)
    aws = data.get("aws") if isinstance(data, dict) else data
    try:
        parse_aws_settings(aws)
    except InvalidSettings as invalid:
        assert invalid.fields


@FUZZ
@given(st.one_of(mutated(POLICY), mutated(POLICY), json_values))
def test_a_policy_loads_and_reads_back_the_same_or_is_invalid(data: Any) -> None:
    try:
        policy = load_policy(data)
    except InvalidPolicy as invalid:
        assert invalid.lines
        return
    assert load_policy(json.loads(json.dumps(dump_policy(policy)))) == policy


@pytest.fixture
def request_of(app: Flask, tenant: Tenant) -> Any:
    """A request to the app (as Jira would send it) to check tokens in."""
    return lambda headers: app.test_request_context("/connect/post-function", method="POST", headers=headers)


def _signed_hs256(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token signed with the tenant's shared secret whatever its header and claims hold (PyJWT's encoder would
    refuse the odd ones): only the checks after the signature can refuse it."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = hmac.new(SHARED_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{segment(signature)}"


@FUZZ
@given(token=st.one_of(jwt_like, st.builds(
    _signed_hs256,
    st.dictionaries(st.sampled_from(["kid", "typ", "cty", "x"]), json_values, max_size=2)
    .map(lambda header: {"alg": "HS256", **header}),
    st.dictionaries(keys, json_values, max_size=6).map(lambda claims: {"iss": CLIENT_KEY, **claims}),
)))
def test_a_jira_jwt_is_verified_or_refused_with_a_reason(request_of: Any, token: str) -> None:
    with request_of({"Authorization": f"JWT {token}"}):
        try:
            verify_jira_request(context_token=True)
        except JiraAuthError as refused:
            assert refused.status in (401, 403) and refused.message


@settings(FUZZ, max_examples=30)  # each example signs with RSA
@given(data=st.data(), claims=st.dictionaries(keys, json_values, max_size=6))
def test_an_install_token_is_verified_or_refused_with_a_reason(
    app: Flask, key_server: Any, data: st.DataObject, claims: dict[str, Any]
) -> None:
    good = jwt.decode(install_token(key_server, "/connect/installed"), options={"verify_signature": False})
    token = key_server.sign({**good, **claims}) if data.draw(st.booleans()) else data.draw(jwt_like)
    with app.test_request_context("/connect/installed", method="POST", headers={"Authorization": f"JWT {token}"}):
        try:
            _verified_install_token()
        except JiraAuthError as refused:
            assert refused.status == 401 and refused.message


class _KeyServerSession:
    """The install-key server's HTTP answers, recording each URL asked."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def get(self, url: str, **kwargs: Any) -> Any:
        self.urls.append(url)
        return type("Answer", (), {"status_code": 404, "text": ""})()


@FUZZ
@given(kid=st.one_of(st.text(max_size=40), st.sampled_from(["../x", "a/b", "a\n", "a?b", "%2e%2e", "a#b", "a b"])))
def test_an_install_key_id_is_looked_up_under_the_key_server_or_refused(kid: str) -> None:
    session = _KeyServerSession()
    keys_server = HttpInstallKeys("https://keys.example.com/", session=session)  # type: ignore[arg-type]
    with pytest.raises(InstallKeyUnavailable):
        keys_server.public_key(kid)
    for url in session.urls:  # one path segment under the key server: no way to steer the request elsewhere
        asked = url.removeprefix("https://keys.example.com/")
        assert asked == kid and not set(asked) & set("/?#%\\ \r"), url


def test_a_key_id_with_a_line_break_is_not_asked_for() -> None:
    session = _KeyServerSession()
    with pytest.raises(InstallKeyUnavailable):
        HttpInstallKeys("https://keys.example.com", session=session).public_key("0\n")  # type: ignore[arg-type]
    assert session.urls == []
