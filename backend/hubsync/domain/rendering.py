"""Rich text written once and shown by both Jira flavours: ADF for Cloud (REST v3), wiki markup for Data Center;
and the ticket hubsync writes for a finding (`render_ticket`).

A `Document` is a short list of blocks (headings, paragraphs, bullet lists) made of spans (plain, bold or code
text, and links). It is deliberately tiny: enough for ticket descriptions and comments, nothing more. A link
whose URL `urls.safe_link` refuses is rendered as its text alone, in every format: a finding's URLs are written by
whoever imported it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hubsync.domain.finding import Finding, WorkflowStatus, marker_label
from hubsync.domain.policy import Policy
from hubsync.domain.ticket import Disposition
from hubsync.domain.urls import safe_link


@dataclass(frozen=True)
class Text:
    """A run of text; `bold` and `code` may be combined (ADF then keeps only `code`, it allows no more)."""

    text: str
    bold: bool = False
    code: bool = False


@dataclass(frozen=True)
class Hyperlink:
    """A link; rendered as plain `text` when `url` is no safe link target (see `urls.safe_link`)."""

    text: str
    url: str

    @property
    def target(self) -> str | None:
        return safe_link(self.url)


Span = Text | Hyperlink


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class BulletList:
    items: tuple[tuple[Span, ...], ...]


Block = Heading | Paragraph | BulletList
SpanLike = Span | str  # a plain `str` is shorthand for `Text(str)`


def bold(text: str) -> Text:
    return Text(text, bold=True)


def code(text: str) -> Text:
    return Text(text, code=True)


def link(text: str, url: str) -> Hyperlink:
    return Hyperlink(text, url)


def heading(text: str, level: int = 2) -> Heading:
    if not 1 <= level <= 6:
        raise ValueError(f"heading level must be 1 to 6, not {level}")
    return Heading(text, level)


def paragraph(*spans: SpanLike) -> Paragraph:
    return Paragraph(_spans(spans))


def bullets(*items: SpanLike | Sequence[SpanLike]) -> BulletList:
    """One item per argument: a span, a string, or a sequence of them."""
    return BulletList(tuple(_spans([item] if isinstance(item, str | Text | Hyperlink) else item) for item in items))


def _spans(spans: Iterable[SpanLike]) -> tuple[Span, ...]:
    return tuple(Text(span) if isinstance(span, str) else span for span in spans)


@dataclass(frozen=True)
class Document:
    blocks: tuple[Block, ...] = ()

    @classmethod
    def of(cls, *blocks: Block | None) -> Document:
        """A document of the given blocks; None entries are skipped, so optional sections read inline."""
        return cls(tuple(block for block in blocks if block is not None))

    @classmethod
    def paragraph(cls, text: str) -> Document:
        """A single plain paragraph: what a caller writes when it only has a sentence (a comment, say)."""
        return cls((Paragraph((Text(text),)),))

    def __add__(self, other: Document) -> Document:
        return Document(self.blocks + other.blocks)

    def to_adf(self) -> dict[str, Any]:
        """Atlassian Document Format, version 1, as Jira Cloud takes in descriptions and comment bodies."""
        return {"type": "doc", "version": 1, "content": [_adf_block(block) for block in self.blocks]}

    def to_wiki(self) -> str:
        """Jira wiki markup, as Data Center takes it; every text is escaped so a finding cannot inject markup."""
        return "\n\n".join(_wiki_block(block) for block in self.blocks)

    def to_text(self) -> str:
        """Plain text, for logs, the audit timeline and dry runs."""
        return "\n\n".join(_text_block(block) for block in self.blocks)


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


# --- plain text --------------------------------------------------------------------------------------------


def _text_block(block: Block) -> str:
    match block:
        case Heading(text, _):
            return text
        case Paragraph(spans):
            return _text_inline(spans)
        case BulletList(items):
            return "\n".join(f"- {_text_inline(item)}" for item in items)
    raise TypeError(f"not a block: {block!r}")


def _text_inline(spans: Sequence[Span]) -> str:
    return "".join(_text_span(span) for span in spans)


def _text_span(span: Span) -> str:
    if not isinstance(span, Hyperlink) or span.target is None:
        return span.text
    return f"{span.text} ({span.url})" if span.text and span.text != span.url else span.url


# --- the ticket of a finding -------------------------------------------------------------------------------

SUMMARY_LIMIT = 255  # Jira refuses longer summaries
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
CONSOLE_HOSTS = {"aws-us-gov": "console.amazonaws-us-gov.com", "aws-cn": "console.amazonaws.cn"}
STANDARD_NAMES = {
    "aws-foundational-security-best-practices": "AWS Foundational Security Best Practices",
    "cis-aws-foundations-benchmark": "CIS AWS Foundations Benchmark",
    "nist-800-53": "NIST SP 800-53",
    "pci-dss": "PCI DSS",
    "aws-resource-tagging-standard": "AWS Resource Tagging Standard",
    "service-managed-aws-control-tower": "AWS Control Tower",
}


@dataclass(frozen=True)
class RenderedTicket:
    summary: str
    description: Document
    priority: str | None
    labels: tuple[str, ...]


def render_ticket(finding: Finding, policy: Policy) -> RenderedTicket:
    """The ticket as created for a finding: one template for both Jira flavours."""
    labels = tuple(dict.fromkeys((*policy.labels, marker_label(finding.key))))
    return RenderedTicket(
        summary=ticket_summary(finding),
        description=ticket_description(finding, policy),
        priority=policy.priorities.get(finding.severity),
        labels=labels,
    )


def ticket_summary(finding: Finding) -> str:
    """`AWS Security Issue :: <account> :: <region> :: <title>`, on one line and within Jira's 255 characters."""
    summary = " ".join(f"AWS Security Issue :: {finding.account_id} :: {finding.region} :: {finding.title}".split())
    return summary if len(summary) <= SUMMARY_LIMIT else summary[: SUMMARY_LIMIT - 1].rstrip() + "\u2026"


def console_url(finding: Finding) -> str:
    """The finding in the Security Hub console of its partition. The search value is percent-encoded twice, as
    the console expects (its search string is itself URL-encoded in the fragment). The host names the region only
    when it looks like one: the finding's `Region` must not decide where the link goes."""
    regional = f"{finding.region}.console.aws.amazon.com" if REGION.match(finding.region) else "console.aws.amazon.com"
    host = CONSOLE_HOSTS.get(finding.partition, regional)
    region = quote(finding.region, safe="")
    search_value = quote(quote(finding.id, safe=""), safe="")
    return (
        f"https://{host}/securityhub/home?region={region}"
        f"#/findings?search=Id%3D%255Coperator%255C%253AEQUALS%255C%253A{search_value}"
    )


def standard_name(standards_id: str) -> str:
    """`standards/aws-foundational-security-best-practices/v/1.0.0` → `AWS Foundational Security Best Practices
    v1.0.0`; an unknown id is shown as it is."""
    match = re.match(r"^(?:standards|ruleset)/([^/]+)/v/([^/]+)$", standards_id)
    if not match or match[1] not in STANDARD_NAMES:
        return standards_id
    return f"{STANDARD_NAMES[match[1]]} v{match[2]}"


def ticket_description(finding: Finding, policy: Policy) -> Document:
    account = finding.account_id + (f" ({finding.account_name})" if finding.account_name else "")
    facts: list[list[SpanLike]] = [
        [bold("Severity: "), finding.severity.value],
        [bold("AWS account: "), code(finding.account_id),
         *([f" ({finding.account_name})"] if finding.account_name else [])],
        [bold("Region: "), code(finding.region)],
        [bold("Reported by: "), finding.product_name or finding.product_arn],
    ]
    if finding.security_control_id:
        facts.append([bold("Control: "), code(finding.security_control_id)])
    if finding.standards:
        facts.append([bold("Standards: "), ", ".join(standard_name(s) for s in finding.standards)])
    resources: list[list[SpanLike]] = [[code(resource.id), f" ({resource.type})"] for resource in finding.resources]
    remediation = [
        paragraph(finding.remediation_text) if finding.remediation_text else None,
        paragraph(link("Remediation guide", url)) if (url := safe_link(finding.remediation_url)) else None,
    ]
    return Document.of(
        heading("What is the problem?"),
        paragraph(
            f"Security Hub reports a {finding.severity.value.lower()} severity finding, ",
            bold(finding.title), f", in AWS account {account}, Region {finding.region}. This ticket tracks it.",
        ),
        bullets(*facts),
        heading("Resources", 3),
        bullets(*resources),
        heading("Details", 3),
        paragraph(finding.description),
        heading("How to fix it", 3) if any(remediation) else None,
        *remediation,
        paragraph(link("Open the finding in Security Hub", console_url(finding))),
        heading("What do I need to do with this ticket?"),
        bullets(*_workflow_guidance(policy)),
        paragraph(
            "The label ", code(marker_label(finding.key)), " ties this ticket to its finding: please keep it.",
        ),
    )


def _workflow_guidance(policy: Policy) -> list[list[SpanLike]]:
    fixed = _statuses(policy, Disposition.FIXED) or "a done status"
    accepted = _statuses(policy, Disposition.ACCEPTED)
    false_positive = _statuses(policy, Disposition.FALSE_POSITIVE)
    steps: list[list[SpanLike]] = [
        ["Check the resources above and fix the configuration. Move the ticket along the workflow while you work."],
        [f"When it is fixed, move the ticket to {fixed}. hubsync marks the finding resolved; if Security Hub "
         "still reports it at its next check, the ticket reopens."],
    ]
    if accepted:
        steps.append([f"To accept the risk instead, move the ticket to {_quoted(policy.risk_request_status)}: "
                      f"a security engineer reviews it and approves ({accepted}), and hubsync suppresses the "
                      "finding in Security Hub."])
    if false_positive:
        steps.append([f"If the finding is a false positive, say why in a comment; once a security engineer confirms "
                      f"it ({false_positive}), hubsync suppresses the finding as a false positive."])
    return steps


def _statuses(policy: Policy, disposition: Disposition) -> str:
    names = [_quoted(name) for name, mapped in policy.status_dispositions.items() if mapped is disposition]
    return " or ".join(names)


def _quoted(status: str) -> str:
    return f"\u201c{status[:1].upper()}{status[1:]}\u201d"


@dataclass(frozen=True)
class Lozenge:
    """A status lozenge as Atlassian draws it: `appearance` is one of default, inprogress, moved, new, removed,
    success."""

    label: str
    appearance: str


_WORKFLOW_APPEARANCE = {
    WorkflowStatus.NEW: "new",
    WorkflowStatus.NOTIFIED: "inprogress",
    WorkflowStatus.SUPPRESSED: "moved",
    WorkflowStatus.RESOLVED: "success",
}


def workflow_lozenge(workflow: WorkflowStatus) -> Lozenge:
    """What the issue glance shows of the finding: its workflow status in Security Hub."""
    return Lozenge(workflow.value, _WORKFLOW_APPEARANCE[workflow])
