"""Atlassian Document Format checks as Jira Cloud v3 applies them to rich-text fields."""

from __future__ import annotations

import pytest

from hubsync_sandbox.jira import adf


def test_a_document_of_paragraphs_round_trips_to_text() -> None:
    document = adf.document("Finding: S3 bucket is public\n\nSeverity: HIGH")
    assert adf.is_document(document)
    assert adf.plain_text(document) == "Finding: S3 bucket is public\nSeverity: HIGH"


def test_marks_lists_and_hard_breaks_read_as_text() -> None:
    document = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Resources"}]},
            {"type": "bulletList", "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": "arn:aws:s3:::logs", "marks": [{"type": "code"}]},
                    {"type": "hardBreak"},
                    {"type": "text", "text": "eu-west-1"},
                ]}]},
            ]},
        ],
    }
    assert adf.is_document(document)
    assert adf.plain_text(document) == "Resources\narn:aws:s3:::logs\neu-west-1"


@pytest.mark.parametrize(
    "value",
    [
        "plain text",
        None,
        {"type": "doc", "content": []},  # no version
        {"type": "doc", "version": 2, "content": []},
        {"type": "paragraph", "version": 1, "content": []},
        {"type": "doc", "version": 1, "content": [{"text": "no type"}]},
        {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}]},
        {"type": "doc", "version": 1, "content": [{"type": "doc", "version": 1, "content": []}]},
    ],
)
def test_what_is_not_a_document(value: object) -> None:
    assert not adf.is_document(value)
