"""Hypothesis strategies for what arrives from outside: JSON of any shape, valid bodies with one part changed, raw
bytes, JWT-looking garbage, header and query values. `FUZZ` keeps every fuzz test fast and the same on every run
(`derandomize`: the examples are derived from the test, not drawn at random), so `make test` is stable."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Names the parsers look for: fuzzed objects use them often, so that values of every type reach each field.
KEYS = (
    "id", "key", "issue", "webhookEvent", "timestamp", "user", "accountId", "accountType", "properties", "value",
    "hubsync.finding", "productArn", "transition", "fields", "detail", "detail-type", "source", "account",
    "findings", "Id", "ProductArn", "Severity", "Label", "Normalized", "actionName", "aws", "policy", "roleArn",
    "organizationsRoleArn", "aggregationRegion", "project_key", "rules", "name", "min_severity", "account_ids",
    "regions", "priorities", "status_dispositions", "labels", "risk_acceptance_days", "owner_tag_key",
    "revokePrevious", "clientKey", "baseUrl", "sharedSecret", "eventType", "Workflow", "Status", "Compliance",
    "Resources", "Type", "Region", "RecordState", "UpdatedAt", "CreatedAt", "AwsAccountId", "Title",
    "GeneratorId", "ProductFields", "Remediation", "Recommendation", "Url", "Note", "Text", "UserDefinedFields",
    "iss", "sub", "exp", "iat", "qsh", "aud", "context", "jira", "alg", "kid", "typ", "metadata", "uid", "product",
    "severity_id", "severity", "comment",
)
TEXTS = ("", " ", "SEC-1", "jira:issue_updated", "jira:issue_deleted", "aws.securityhub",
         "Security Hub Findings - Imported", "Security Hub Findings - Custom Action", "Findings Imported V2",
         "#jira", " #JIRA", "Fatal", "CRITICAL", "HIGH",
         "111122223333", "eu-west-1", "arn:aws:iam::111122223333:role/x", "https://acme.atlassian.net",
         "javascript:alert(1)", "\x00", "\u202e", "\ud7ff", "context-qsh", "HS256", "RS256", "none", "null", "[]")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(TEXTS),
    st.text(max_size=20),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=25,
)


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """`base` with one part replaced, removed, or given a sibling: valid up to one place, so the fuzzing reaches
    past the first check of a schema."""
    if isinstance(base, dict) and base and draw(st.integers(0, 5)) > 0:
        key = draw(st.sampled_from(sorted(base)))
        copy = dict(base)
        action = draw(st.sampled_from(["descend", "descend", "descend", "replace", "delete", "add"]))
        if action == "descend":
            copy[key] = draw(mutated(base[key]))
        elif action == "replace":
            copy[key] = draw(json_values)
        elif action == "delete":
            del copy[key]
        else:
            copy[draw(keys)] = draw(json_values)
        return copy
    if isinstance(base, list) and base and draw(st.integers(0, 5)) > 0:
        index = draw(st.integers(0, len(base) - 1))
        copy = list(base)
        copy[index] = draw(mutated(base[index]))
        return copy
    return draw(json_values)


def nested(depth: int, leaf: bytes = b"1") -> bytes:
    return b'{"a":' * depth + leaf + b"}" * depth


def as_bytes(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def bodies(*bases: Any) -> st.SearchStrategy[bytes]:
    """Request bodies: valid ones changed in one place (half of them), JSON of any shape, raw bytes, odd encodings,
    deep nesting."""
    shapes = [st.sampled_from(bases).flatmap(mutated).map(as_bytes)] * 5 if bases else []
    return st.one_of(
        *shapes,
        json_values.map(as_bytes),
        st.binary(max_size=64),
        st.sampled_from([b"", b"{", b"[]", b"null", b"NaN", b"1e99999", b"\xef\xbb\xbf{}", b'"\\ud800"',
                         b"9" * 5000, nested(5000), nested(150), b"[" * 5000 + b"]" * 5000]),
        json_values.map(lambda value: json.dumps(value).encode("utf-16")),
    )


def segment(value: Any) -> str:
    """A JWT segment: base64url of `value` (JSON unless bytes), unpadded."""
    raw = value if isinstance(value, bytes) else json.dumps(value, allow_nan=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


jwt_like = st.one_of(
    st.text(max_size=40),
    st.tuples(json_values, json_values, st.binary(max_size=16)).map(lambda t: ".".join(map(segment, t))),
    st.tuples(st.dictionaries(keys, json_values, max_size=4), st.dictionaries(keys, json_values, max_size=6))
    .map(lambda t: f"{segment(t[0])}.{segment(t[1])}.{segment(b'sig')}"),
    st.sampled_from(["", ".", "..", "a.b.c", "e30.e30.", "e30.e30.e30", "eyJhbGciOiJub25lIn0.e30."]),
)
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                      max_size=40)


def header_safe(value: str) -> str:
    """What an HTTP header can carry (latin-1, no line breaks): the rest becomes "?"."""
    return "".join(c if 0x20 <= ord(c) <= 0xFF and c != "\x7f" else "?" for c in value)


authorizations = st.one_of(
    st.none(),
    jwt_like.map(lambda token: header_safe(f"JWT {token}")),
    jwt_like.map(lambda token: header_safe(f"jwt  {token}")),
    st.sampled_from(["JWT", "JWT ", "Bearer x", "Basic Og==", "JWT\t."]),
    header_text,
)
content_types = st.one_of(
    st.none(),
    st.sampled_from(["application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
                     "application/json; charset=utf-16", "application/json; charset=nope", "text/plain",
                     "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=x",
                     "application/vnd.api+json", "*/*"]),
    header_text,
)
mostly_json = st.one_of(st.just("application/json"), st.just("application/json"), content_types)
query_strings = st.one_of(
    st.just(""),
    st.dictionaries(st.sampled_from(["issueKey", "jwt", "xdm_e", "cp", "lic", "x"]) | st.text(max_size=6),
                    st.text(max_size=20) | jwt_like, max_size=3)
    .map(lambda params: "&".join(f"{k}={v}" for k, v in params.items())),
    header_text,
)
