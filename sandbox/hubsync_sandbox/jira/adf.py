"""Atlassian Document Format, as far as Jira Cloud's REST v3 checks it: the document's shape, and plain text.

Jira Cloud validates rich-text fields (description, comment body) on v3 and answers 400 with the message
below when it gets a string or a malformed document; Data Center takes wiki text and rejects objects.
"""

from __future__ import annotations

from typing import Any

NOT_A_DOCUMENT = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
NOT_A_STRING = "Operation value must be a string"

# Nodes that separate blocks of text when a document is read as plain text.
_BLOCK_NODES = {"paragraph", "heading", "blockquote", "codeBlock", "listItem", "rule", "panel", "tableRow"}


def is_document(value: Any) -> bool:
    """A top-level `doc` of version 1 whose nodes all have a type, text nodes carrying a string."""
    if not isinstance(value, dict) or value.get("type") != "doc" or value.get("version") != 1:
        return False
    content = value.get("content")
    return isinstance(content, list) and all(_is_node(node) for node in content)


def _is_node(node: Any) -> bool:
    if not isinstance(node, dict) or not isinstance(node.get("type"), str) or node["type"] == "doc":
        return False
    if node["type"] == "text" and not (isinstance(node.get("text"), str) and node["text"]):
        return False
    content = node.get("content", [])
    return isinstance(content, list) and all(_is_node(child) for child in content)


def plain_text(document: dict[str, Any]) -> str:
    """The document's text, one line per block; what JQL text search and summaries of comments see."""
    lines: list[str] = []
    current: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("type") == "text":
            current.append(node.get("text", ""))
        elif node.get("type") == "hardBreak":
            current.append("\n")
        for child in node.get("content", []):
            walk(child)
        if node.get("type") in _BLOCK_NODES and current:
            lines.append("".join(current))
            current.clear()

    walk(document)
    if current:
        lines.append("".join(current))
    return "\n".join(lines)


def document(text: str) -> dict[str, Any]:
    """A document of one paragraph per line of `text`: what a caller writes when it has plain text."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]} if line else {"type": "paragraph"}
        for line in text.split("\n")
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}
