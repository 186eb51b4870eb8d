"""The subset of JQL a sync app uses: a tokenizer, a recursive-descent parser and an evaluator.

Grammar (keywords are case-insensitive; `&&`/`||` are accepted for AND/OR as Jira does):

    query    := [or_expr] [ORDER BY order_key ("," order_key)*]
    or_expr  := and_expr (OR and_expr)*
    and_expr := not_expr (AND not_expr)*
    not_expr := NOT not_expr | "(" or_expr ")" | clause
    clause   := field operator operand
    field    := project | status | statusCategory | labels | key | issuetype | priority | resolution
              | assignee | reporter | created | updated | issue.property[<key>].<path>   (and Jira's aliases)
    operator := = | != | < | <= | > | >= | IN | NOT IN | IS | IS NOT
    operand  := value | "(" value ("," value)* ")" | EMPTY | NULL
    value    := word | "quoted" | 'quoted' | function "(" [args] ")"

Errors are raised as `JqlError` carrying Jira's wording, which the REST layer returns in a 400.
Evaluation is against a `Subject` (one issue, as the world presents it), so this module knows no issue model.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class JqlError(ValueError):
    """A query Jira would refuse; the message is Jira's."""


@dataclass(frozen=True)
class PropertyRef:
    """`issue.property[key].path`: a value inside an issue property (path dotted, may be empty)."""

    key: str
    path: str


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[str, ...] = ()


class _Empty:
    def __repr__(self) -> str:
        return "EMPTY"


EMPTY = _Empty()

Value = str | Function
Operand = Value | tuple[Value, ...] | _Empty
FieldRef = str | PropertyRef


@dataclass(frozen=True)
class Clause:
    field: FieldRef
    operator: str  # one of OPERATORS, lower case
    operand: Operand


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Clause | And | Or | Not


@dataclass(frozen=True)
class OrderKey:
    field: str
    descending: bool


@dataclass(frozen=True)
class Query:
    where: Node | None
    order_by: tuple[OrderKey, ...]

    @property
    def bounded(self) -> bool:
        """Whether the query restricts the search at all (Cloud's /search/jql refuses unbounded queries)."""
        return self.where is not None


# -- fields and operators ------------------------------------------------------------------------

NAMED_FIELDS = frozenset(
    {"project", "status", "statuscategory", "labels", "key", "issuetype", "priority", "resolution"}
    | {"assignee", "reporter"}
)
DATE_FIELDS = frozenset({"created", "updated"})
FIELD_ALIASES = {
    "issuekey": "key",
    "id": "key",
    "type": "issuetype",
    "createddate": "created",
    "updateddate": "updated",
    "category": "statuscategory",
}
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not")
_OPERATORS_BY_KIND = {
    "named": {"=", "!=", "in", "not in", "is", "is not"},
    "date": {"=", "!=", "<", "<=", ">", ">=", "is", "is not"},
    "property": {"=", "!=", "in", "not in", "is", "is not"},
}
_DATE_FUNCTIONS = {"now", "startofday", "endofday"}
_USER_FUNCTIONS = {"currentuser"}
_VALID_OPERATORS = (
    " The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."
)
_KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}
_PROPERTY_FIELD = re.compile(r"^issue\.property\[([^\]]+)\](?:\.(.+))?$", re.IGNORECASE)
_RELATIVE_DATE = re.compile(r"^\s*([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$")
_RELATIVE_PART = re.compile(r"(\d+)\s*([wdhm])")
_ABSOLUTE_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_UNIT = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


def field_kind(field: FieldRef) -> str:
    if isinstance(field, PropertyRef):
        return "property"
    return "date" if field in DATE_FIELDS else "named"


def _field_ref(name: str) -> FieldRef:
    prop = _PROPERTY_FIELD.match(name)
    if prop:
        return PropertyRef(prop.group(1), prop.group(2) or "")
    canonical = FIELD_ALIASES.get(name.lower(), name.lower())
    if canonical not in NAMED_FIELDS | DATE_FIELDS:
        raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")
    return canonical


# -- tokens --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # word | string | op | ( | ) | , | end
    text: str
    position: int

    def keyword(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


_WORD_STOP = set(" \t\r\n()\"',=!<>~&|")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "(),":
            tokens.append(_Token(char, char, i))
            i += 1
        elif char in "&|":
            end = i + 2 if text[i : i + 2] == char * 2 else i + 1
            tokens.append(_Token("word", "and" if char == "&" else "or", i))
            i = end
        elif char in "\"'":
            value, i = _quoted(text, i)
            tokens.append(_Token("string", value, i))
        elif char in "=!<>~":
            two = text[i : i + 2]
            op = two if two in ("!=", "<=", ">=", "!~") else char
            if op == "!":
                raise JqlError(f"Error in the JQL Query: The character '!' is reserved.{_where(text, i)}")
            tokens.append(_Token("op", op, i))
            i += len(op)
        else:
            start = i
            while i < len(text) and text[i] not in _WORD_STOP:
                i += 1
            tokens.append(_Token("word", text[start:i], start))
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _quoted(text: str, start: int) -> tuple[str, int]:
    quote, chars, i = text[start], [], start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            chars.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        elif char == quote:
            return "".join(chars), i + 1
        else:
            chars.append(char)
            i += 1
    raise JqlError(
        f"Error in the JQL Query: The quoted string '{text[start + 1 :]}' has not been completed."
        f"{_where(text, start)}"
    )


def _where(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f" (line {line}, character {column})"


# -- parser --------------------------------------------------------------------------------------


def parse(text: str) -> Query:
    """Parse a JQL query; raises `JqlError` with Jira's message for anything outside the subset."""
    return _Parser(text).query()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, expecting: str) -> JqlError:
        token = self.current
        got = "reached the end of the query." if token.kind == "end" else f"got '{token.text}'."
        hint = _VALID_OPERATORS if expecting == "operator" else ""
        where = "" if token.kind == "end" else _where(self.text, token.position)
        return JqlError(f"Error in the JQL Query: Expecting {expecting} but {got}{hint}{where}")

    def query(self) -> Query:
        where = None
        if self.current.kind != "end" and not self.current.keyword("order"):
            where = self.or_expr()
        order_by: tuple[OrderKey, ...] = ()
        if self.current.keyword("order"):
            self.advance()
            if not self.current.keyword("by"):
                raise self.fail("'by'")
            self.advance()
            order_by = self.order_keys()
        if self.current.kind != "end":
            raise self.fail("either 'OR' or 'AND'")
        return Query(where, order_by)

    def order_keys(self) -> tuple[OrderKey, ...]:
        keys = []
        while True:
            token = self.current
            if token.kind not in ("word", "string") or (token.kind == "word" and token.text.lower() in _KEYWORDS):
                raise self.fail("a field name")
            self.advance()
            field = _field_ref(token.text)
            if isinstance(field, PropertyRef):
                raise JqlError(f"Field '{token.text}' does not support sorting.")
            descending = False
            if self.current.keyword("asc", "desc"):
                descending = self.advance().text.lower() == "desc"
            keys.append(OrderKey(field, descending))
            if self.current.kind != ",":
                return tuple(keys)
            self.advance()

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.current.keyword("or"):
            self.advance()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.current.keyword("and"):
            self.advance()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_expr(self) -> Node:
        if self.current.keyword("not"):
            self.advance()
            return Not(self.not_expr())
        if self.current.kind == "(":
            self.advance()
            node = self.or_expr()
            if self.current.kind != ")":
                raise self.fail("')'")
            self.advance()
            return node
        return self.clause()

    def clause(self) -> Clause:
        token = self.current
        if token.kind not in ("word", "string") or (token.kind == "word" and token.text.lower() in _KEYWORDS):
            raise self.fail("a field name")
        self.advance()
        field = _field_ref(token.text)
        operator = self.operator()
        operand = self.operand()
        _check_clause(token.text, field, operator, operand)
        return Clause(field, operator, operand)

    def operator(self) -> str:
        token = self.current
        if token.kind == "op" and token.text in OPERATORS:
            self.advance()
            return token.text
        if token.keyword("in"):
            self.advance()
            return "in"
        if token.keyword("is"):
            self.advance()
            if self.current.keyword("not"):
                self.advance()
                return "is not"
            return "is"
        if token.keyword("not") and self.tokens[self.index + 1].keyword("in"):
            self.index += 2
            return "not in"
        if token.kind == "op":  # ~ and !~: text search is outside the subset
            raise JqlError(f"The operator '{token.text}' is not supported here.")
        raise self.fail("operator")

    def operand(self) -> Operand:
        if self.current.kind == "(":
            self.advance()
            values = [self.value()]
            while self.current.kind == ",":
                self.advance()
                values.append(self.value())
            if self.current.kind != ")":
                raise self.fail("')'")
            self.advance()
            return tuple(values)
        if self.current.keyword("empty", "null"):
            self.advance()
            return EMPTY
        return self.value()

    def value(self) -> Value:
        token = self.current
        if token.kind == "string":
            self.advance()
            return token.text
        if token.kind != "word" or token.text.lower() in _KEYWORDS:
            raise self.fail("either a value, list or function")
        self.advance()
        if self.current.kind != "(":
            return token.text
        self.advance()
        args: list[str] = []
        while self.current.kind in ("word", "string"):
            args.append(self.advance().text)
            if self.current.kind != ",":
                break
            self.advance()
        if self.current.kind != ")":
            raise self.fail("')'")
        self.advance()
        name = token.text.lower()
        if name not in _DATE_FUNCTIONS | _USER_FUNCTIONS:
            raise JqlError(f"Unable to find JQL function '{token.text}()'.")
        return Function(name, tuple(args))


def _check_clause(name: str, field: FieldRef, operator: str, operand: Operand) -> None:
    kind = field_kind(field)
    if operator not in _OPERATORS_BY_KIND[kind]:
        raise JqlError(f"The operator '{operator.upper()}' is not supported by the '{name}' field.")
    is_list = isinstance(operand, tuple)
    if operator in ("in", "not in") and not is_list:
        raise JqlError(f"The operator '{operator.upper()}' only supports a list of values for field '{name}'.")
    if operator in ("is", "is not") and operand is not EMPTY:
        raise JqlError(f"The operator '{operator.upper()}' only supports EMPTY or NULL for field '{name}'.")
    if is_list and operator not in ("in", "not in"):
        raise JqlError(f"The operator '{operator.upper()}' does not support a list of values for field '{name}'.")
    for value in operand if isinstance(operand, tuple) else (operand,):
        if isinstance(value, Function):
            allowed = _DATE_FUNCTIONS if kind == "date" else _USER_FUNCTIONS
            if value.name not in allowed or (field not in ("assignee", "reporter") and kind != "date"):
                raise JqlError(f"The function '{value.name}' is not supported by the '{name}' field.")
        elif kind == "date" and isinstance(value, str):
            parse_date(value, name, datetime.now(UTC))


def parse_date(value: str, field: str, now: datetime) -> datetime:
    """A JQL date: relative to `now` (`-2w`, `-5d`, `-10m`, `"4w 2d"`) or absolute (UTC), Jira's formats."""
    relative = _RELATIVE_DATE.match(value)
    if relative:
        offset = sum((int(n) * _UNIT[unit] for n, unit in _RELATIVE_PART.findall(relative.group(2))), timedelta())
        return now - offset if relative.group(1) == "-" else now + offset
    for fmt in _ABSOLUTE_DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{value}' for field '{field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
        "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
    )


def clauses(node: Node | None) -> Iterator[Clause]:
    """Every clause of a query, for validating its values against the site (unknown project, status...)."""
    if node is None:
        return
    if isinstance(node, Clause):
        yield node
    elif isinstance(node, Not):
        yield from clauses(node.part)
    else:
        for part in node.parts:
            yield from clauses(part)


def literal_values(operand: Operand) -> list[str]:
    """The plain values of an operand (functions and EMPTY left out)."""
    values = operand if isinstance(operand, tuple) else (operand,)
    return [value for value in values if isinstance(value, str)]


# -- evaluation ----------------------------------------------------------------------------------


class Subject(Protocol):
    """One issue as JQL sees it."""

    def names(self, field: FieldRef) -> Sequence[frozenset[str]]:
        """For a named or property field: per value, the lower-case names that match it (e.g. id and name)."""
        ...

    def moment(self, field: str) -> datetime | None:
        """For a date field: its value."""
        ...


@dataclass(frozen=True)
class Context:
    now: datetime
    current_user: frozenset[str]  # the searcher's lower-case names (account id, name, email)


def matches(node: Node | None, subject: Subject, context: Context) -> bool:
    if node is None:
        return True
    if isinstance(node, And):
        return all(matches(part, subject, context) for part in node.parts)
    if isinstance(node, Or):
        return any(matches(part, subject, context) for part in node.parts)
    if isinstance(node, Not):
        return not matches(node.part, subject, context)
    if field_kind(node.field) == "date":
        return _date_matches(node, subject.moment(node.field), context)  # type: ignore[arg-type]
    return _names_match(node, subject.names(node.field), context)


def wanted_names(operand: Operand, context: Context) -> frozenset[str]:
    """The lower-case names a clause's values ask for (`currentUser()` stands for the searcher's names): a named
    or property field's value matches when one of its names is among them."""
    literal, has_function = _literal_names(operand)
    return literal | context.current_user if has_function else literal


@functools.lru_cache(maxsize=1024)
def _literal_names(operand: Operand) -> tuple[frozenset[str], bool]:
    """An operand's literal names, and whether it calls a function; computed once per operand, not per issue."""
    values = operand if isinstance(operand, tuple) else (operand,)
    names = frozenset(str(value).lower() for value in values if not isinstance(value, Function) and value is not EMPTY)
    return names, any(isinstance(value, Function) for value in values)


def dated(node: Node | None) -> bool:
    """Whether a query's condition names a date field, so that what it matches changes with the time of day."""
    return any(field_kind(clause.field) == "date" for clause in clauses(node))


def _names_match(clause: Clause, values: Sequence[frozenset[str]], context: Context) -> bool:
    if clause.operand is EMPTY:
        empty = not values
        return empty if clause.operator in ("=", "is", "in") else not empty

    wanted = wanted_names(clause.operand, context)
    hit = any(names & wanted for names in values)
    if clause.operator in ("=", "in"):
        return hit
    return bool(values) and not hit  # != and NOT IN never match an empty field, as in Jira


def _date_matches(clause: Clause, moment: datetime | None, context: Context) -> bool:
    if clause.operand is EMPTY:
        return (moment is None) == (clause.operator in ("=", "is"))
    if moment is None:
        return False
    operand = clause.operand
    assert isinstance(operand, str | Function)
    target = _resolve_date(operand, str(clause.field), context.now)
    compare = {
        "=": moment == target,
        "!=": moment != target,
        "<": moment < target,
        "<=": moment <= target,
        ">": moment > target,
        ">=": moment >= target,
    }
    return compare[clause.operator]


def _resolve_date(value: Value, field: str, now: datetime) -> datetime:
    if isinstance(value, str):
        return parse_date(value, field, now)
    if value.name == "now":
        return now
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start if value.name == "startofday" else start + timedelta(days=1) - timedelta(microseconds=1)
