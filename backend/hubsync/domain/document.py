"""The domain's rich text: what hubsync writes in a ticket's description and comments, free of any wire format.

A `Document` is a short list of blocks (headings, paragraphs, bullet lists) made of spans (plain, bold or code
text, and links). It is deliberately tiny: enough for ticket descriptions and comments, nothing more. The Jira
adapter writes it in Jira's formats (ADF for Cloud, wiki markup for Data Center: `adapters.jira.documents`); the
domain reads it as plain text (`to_text`). A link whose URL `urls.safe_link` refuses is rendered as its text alone,
in every format: a finding's URLs are written by whoever imported it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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

    def to_text(self) -> str:
        """Plain text, for logs, the audit timeline and dry runs."""
        return "\n\n".join(_text_block(block) for block in self.blocks)


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
