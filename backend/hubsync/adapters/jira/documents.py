"""The domain's `Document` in Jira's wire formats: Atlassian Document Format for Cloud (REST v3), wiki markup for Data
Center (REST v2). Every text is written literally: a finding cannot inject markup, and a link whose URL
`urls.safe_link` refuses is its text alone."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from hubsync.domain.document import Block, BulletList, Document, Heading, Hyperlink, Paragraph, Span, Text


def to_adf(document: Document) -> dict[str, Any]:
    """Atlassian Document Format, version 1, as Jira Cloud takes in descriptions and comment bodies."""
    return {"type": "doc", "version": 1, "content": [_adf_block(block) for block in document.blocks]}


def to_wiki(document: Document) -> str:
    """Jira wiki markup, as Data Center takes it; every text is escaped so a finding cannot inject markup."""
    return "\n\n".join(_wiki_block(block) for block in document.blocks)


# --- ADF ---------------------------------------------------------------------------------------------------


def _adf_block(block: Block) -> dict[str, Any]:
    match block:
        case Heading(text, level):
            return _with_content({"type": "heading", "attrs": {"level": level}}, _adf_inline([Text(text)]))
        case Paragraph(spans):
            return _adf_paragraph(spans)
        case BulletList(items):
            return {
                "type": "bulletList",
                "content": [{"type": "listItem", "content": [_adf_paragraph(item)]} for item in items],
            }
    raise TypeError(f"not a block: {block!r}")


def _adf_paragraph(spans: Sequence[Span]) -> dict[str, Any]:
    return _with_content({"type": "paragraph"}, _adf_inline(spans))


def _with_content(node: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, Any]:
    # ADF allows an empty paragraph or heading, but not an empty text node: leave `content` out instead.
    return node | {"content": content} if content else node


def _adf_inline(spans: Sequence[Span]) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for span in spans:
        marks = _adf_marks(span)
        for index, line in enumerate(span.text.split("\n")):
            if index:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line} | ({"marks": marks} if marks else {}))
    return nodes


def _adf_marks(span: Span) -> list[dict[str, Any]]:
    match span:
        case Hyperlink() if span.target is not None:
            return [{"type": "link", "attrs": {"href": span.target}}]
        case Text(_, _, True):
            return [{"type": "code"}]  # ADF's code mark combines with links only
        case Text(_, True, False):
            return [{"type": "strong"}]
    return []


# --- Jira wiki markup --------------------------------------------------------------------------------------

# Characters that start markup somewhere in Jira's wiki renderer (bold, italics, monospace, links, images,
# tables, macros, lists, super/subscript, strike-through, insert, line breaks); `??` (citations) separately.
_WIKI_SPECIAL = re.compile(r"([\\*_{}\[\]|!#~^+\-])")
_LINE_START_MARKUP = re.compile(r"^(\s*)(h[1-6]|bq)\.", re.MULTILINE)


def escape_wiki(text: str) -> str:
    """Text shown literally by Jira's wiki renderer."""
    escaped = _WIKI_SPECIAL.sub(r"\\\1", text)
    escaped = escaped.replace("??", "\\?\\?")  # `??citation??`; a single `?` is plain text
    # `h2.` or `bq.` at the start of a line would make a heading or quote: break the keyword with an entity.
    return _LINE_START_MARKUP.sub(lambda match: f"{match[1]}{match[2]}&#46;", escaped)


def _wiki_block(block: Block) -> str:
    match block:
        case Heading(text, level):
            return f"h{level}. {escape_wiki(_one_line(text))}"
        case Paragraph(spans):
            return _wiki_inline(spans)
        case BulletList(items):
            return "\n".join(f"* {_one_line(_wiki_inline(item))}" for item in items)
    raise TypeError(f"not a block: {block!r}")


def _wiki_inline(spans: Sequence[Span]) -> str:
    # A blank line would end the paragraph: keep single line breaks only.
    return re.sub(r"\n\s*\n+", "\n", "".join(_wiki_span(span) for span in spans))


def _wiki_span(span: Span) -> str:
    match span:
        case Hyperlink(text, _) if span.target is None:
            return escape_wiki(text)
        case Hyperlink(text, url):
            label = escape_wiki(_one_line(text))
            return f"[{label}|{_wiki_url(url)}]" if text and text != url else f"[{_wiki_url(url)}]"
        case Text(text, is_bold, is_code):
            return _wiki_marked(text, is_bold, is_code)
    raise TypeError(f"not a span: {span!r}")


def _wiki_marked(text: str, is_bold: bool, is_code: bool) -> str:
    """Markers must touch the text: surrounding spaces go outside them (`*bold*`, not `* bold *`)."""
    core = text.strip()
    if not core or not (is_bold or is_code):
        return escape_wiki(text)
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    marked = escape_wiki(_one_line(core))
    if is_code:
        marked = "{{" + marked + "}}"
    if is_bold:
        marked = f"*{marked}*"
    return f"{lead}{marked}{trail}"


# What stays as it is in a link target: RFC 3986's unreserved and reserved characters and `%`, less `[` and `]`.
# Everything else (`|` `[` `]` `{` `}` `"` `<` `>` `^` a backtick, non-ASCII) is percent-encoded, so a URL can
# neither end the link, split its label nor open a macro.
_WIKI_URL_SAFE = ":/?#@!$&'()*+,;=%~"


def _wiki_url(url: str) -> str:
    """A URL inside `[...]`, percent-encoded where Jira's renderer would read markup."""
    return quote(url, safe=_WIKI_URL_SAFE)


def _one_line(text: str) -> str:
    return " ".join(text.split())
