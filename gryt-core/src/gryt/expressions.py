"""The expression language of `if` conditions and `${{ }}` interpolation: a tokenizer and a recursive-descent
parser to a small AST, evaluated by walking it (never `eval`).

    expr       := or
    or         := and (("or" | "||") and)*
    and        := not (("and" | "&&") not)*
    not        := ("not" | "!") not | comparison
    comparison := primary (("==" | "!=" | "<" | "<=" | ">" | ">=" | "=~") primary)?
    primary    := STRING | NUMBER | "true" | "false" | "null" | NAME ("." NAME)* | NAME "(" args ")"
                | "(" expr ")"

`a or b` is `a` when `a` is truthy, else `b` (so `env.X || 'fallback'` gives a default); `=~` is a glob
match (fnmatch, case-sensitive). Errors are `ExpressionError`s carrying the column (1-based).
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from gryt.config import did_you_mean
from gryt.errors import ConfigError

MAX_LENGTH = 4096
"""Characters an expression may have: far beyond a real condition, and bounds the parser's recursion."""
MAX_DEPTH = 64
"""How deeply `not`, parentheses and calls may nest."""


class ExpressionError(ConfigError):
    """A syntax error, an unknown function or name; `column` (1-based) points into `source`."""

    def __init__(self, message: str, source: str, column: int | None = None) -> None:
        self.reason = message
        self.source = source
        self.column = column
        where = f" at column {column}" if column is not None else ""
        shown = source if len(source) <= 120 else source[:117] + "..."
        super().__init__(f'{message}{where} in "{shown}"')


# ------------------------------------------------------------------------------------------------ AST


@dataclass(frozen=True)
class Literal:
    value: str | int | float | bool | None
    column: int = 0


@dataclass(frozen=True)
class Name:
    parts: tuple[str, ...]
    column: int = 0


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]
    column: int = 0


@dataclass(frozen=True)
class Not:
    operand: Node
    column: int = 0


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    column: int = 0


Node: TypeAlias = "Literal | Name | Call | Not | Binary"

COMPARISONS = ("==", "!=", "<=", ">=", "<", ">", "=~")
STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")
FUNCTIONS: dict[str, int] = {
    "success": 0,
    "failure": 0,
    "always": 0,
    "cancelled": 0,
    "contains": 2,
    "startsWith": 2,
    "endsWith": 2,
}
"""Function name -> number of arguments."""
KEYWORDS = {"true": True, "false": False, "null": None}

# ----------------------------------------------------------------------------------------- tokenizer

_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    |(?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    |(?P<op>==|!=|<=|>=|=~|&&|\|\||[<>!().,])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, op, end
    text: str
    column: int


def tokenize(source: str) -> list[Token]:
    """The tokens of `source`, ending with an `end` token; ExpressionError on a character no token starts."""
    tokens: list[Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            char = source[position]
            if char in "'\"":
                raise ExpressionError("unterminated string", source, position + 1)
            raise ExpressionError(f"unexpected {char!r}", source, position + 1)
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group(), position + 1))
        position = match.end()
    tokens.append(Token("end", "", len(source) + 1))
    return tokens


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1], flags=re.DOTALL)


# -------------------------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, source: str) -> None:
        if len(source) > MAX_LENGTH:
            raise ExpressionError(f"longer than {MAX_LENGTH} characters", source[:40] + "...")
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, token: Token, message: str | None = None) -> ExpressionError:
        if message is None:
            message = "unexpected end of expression" if token.kind == "end" else f"unexpected {token.text!r}"
            return ExpressionError(message, self.source, None if token.kind == "end" else token.column)
        return ExpressionError(message, self.source, token.column)

    def is_op(self, *texts: str) -> bool:
        token = self.token
        return token.kind in {"op", "name"} and token.text in texts

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise ExpressionError("empty expression", self.source)
        node = self.parse_or()
        if self.token.kind != "end":
            raise self.fail(self.token)
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.is_op("or", "||"):
            token = self.advance()
            node = Binary("or", node, self.parse_and(), token.column)
        return node

    def parse_and(self) -> Node:
        node = self.parse_not()
        while self.is_op("and", "&&"):
            token = self.advance()
            node = Binary("and", node, self.parse_not(), token.column)
        return node

    def nested(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(token, f"nested more than {MAX_DEPTH} levels deep")

    def parse_not(self) -> Node:
        if self.is_op("not", "!"):
            token = self.advance()
            self.nested(token)
            node = Not(self.parse_not(), token.column)
            self.depth -= 1
            return node
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        node = self.parse_primary()
        if self.token.kind == "op" and self.token.text in COMPARISONS:
            token = self.advance()
            node = Binary(token.text, node, self.parse_primary(), token.column)
            if self.token.kind == "op" and self.token.text in COMPARISONS:
                raise self.fail(self.token, f"{self.token.text!r} after a comparison: add parentheses")
        return node

    def parse_primary(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.advance()
            number = float(token.text)
            if not math.isfinite(number):
                raise self.fail(token, f"number out of range {token.text!r}")
            value: int | float = int(token.text) if token.text.isdigit() else number
            return Literal(value, token.column)
        if token.kind == "string":
            self.advance()
            return Literal(_unquote(token.text), token.column)
        if token.kind == "op" and token.text == "(":
            self.advance()
            self.nested(token)
            node = self.parse_or()
            self.depth -= 1
            if not self.is_op(")"):
                raise self._unclosed(token)
            self.advance()
            return node
        if token.kind == "name" and token.text not in ("and", "or", "not"):
            self.advance()
            if token.text in KEYWORDS:
                return Literal(KEYWORDS[token.text], token.column)
            if self.is_op("("):
                return self.parse_call(token)
            parts = [token.text]
            while self.is_op("."):
                self.advance()
                part = self.token
                if part.kind != "name":
                    raise self.fail(part, f"expected a name after '.', got {part.text or 'the end'!r}")
                parts.append(self.advance().text)
            return Name(tuple(parts), token.column)
        raise self.fail(token)

    def _unclosed(self, open_paren: Token) -> ExpressionError:
        """At the end: the `(` is not closed; elsewhere: the token where `)` was expected."""
        if self.token.kind == "end":
            return self.fail(open_paren, "unclosed '('")
        return self.fail(
            self.token, f"expected ')' (for the '(' at column {open_paren.column}), got {self.token.text!r}"
        )

    def parse_call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            hint = did_you_mean(name.text, list(FUNCTIONS))
            raise self.fail(name, f"unknown function {name.text}(){hint}")
        open_paren = self.advance()
        self.nested(open_paren)
        args: list[Node] = []
        if not self.is_op(")"):
            args.append(self.parse_or())
            while self.is_op(","):
                self.advance()
                args.append(self.parse_or())
        if not self.is_op(")"):
            raise self._unclosed(open_paren)
        self.advance()
        self.depth -= 1
        wanted = FUNCTIONS[name.text]
        if len(args) != wanted:
            plural = "s" if wanted != 1 else ""
            raise self.fail(name, f"{name.text}() takes {wanted} argument{plural}, got {len(args)}")
        return Call(name.text, tuple(args), name.column)


def parse(source: str) -> Node:
    """The AST of `source`; ExpressionError (with the column) for anything that is not an expression."""
    return _Parser(source).parse()


# ------------------------------------------------------------------------------------------- printer


def unparse(node: Node) -> str:
    """`node` as source text that parses back to the same tree (every operation parenthesised)."""
    if isinstance(node, Literal):
        return _literal(node.value)
    if isinstance(node, Name):
        return ".".join(node.parts)
    if isinstance(node, Call):
        return f"{node.function}({', '.join(unparse(a) for a in node.args)})"
    if isinstance(node, Not):
        return f"(not {unparse(node.operand)})"
    return f"({unparse(node.left)} {node.op} {unparse(node.right)})"


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def same(a: Node, b: Node) -> bool:
    """True when two trees are equal, columns aside."""
    return bool(_strip(a) == _strip(b))


def _strip(node: Node) -> Any:
    if isinstance(node, Literal):
        return ("literal", type(node.value).__name__, node.value)
    if isinstance(node, Name):
        return ("name", node.parts)
    if isinstance(node, Call):
        return ("call", node.function, tuple(_strip(a) for a in node.args))
    if isinstance(node, Not):
        return ("not", _strip(node.operand))
    return ("binary", node.op, _strip(node.left), _strip(node.right))


# ---------------------------------------------------------------------------------------- evaluation


def names(node: Node, *, guarded: bool = False) -> list[tuple[Name, bool]]:
    """Every name in `node`, each with whether it has a default (it is in the left operand of an `or`)."""
    if isinstance(node, Name):
        return [(node, guarded)]
    if isinstance(node, Call):
        return [found for arg in node.args for found in names(arg, guarded=guarded)]
    if isinstance(node, Not):
        return names(node.operand, guarded=guarded)
    if isinstance(node, Binary):
        left_guarded = guarded or node.op == "or"
        return names(node.left, guarded=left_guarded) + names(node.right, guarded=guarded)
    return []


def functions(node: Node) -> list[str]:
    """The functions `node` calls."""
    if isinstance(node, Call):
        return [node.function, *(f for arg in node.args for f in functions(arg))]
    if isinstance(node, Not):
        return functions(node.operand)
    if isinstance(node, Binary):
        return functions(node.left) + functions(node.right)
    return []


@dataclass
class Status:
    """What the status functions see: whether something before failed, and whether the run was cancelled."""

    failed: bool = False
    cancelled: bool = False


def truthy(value: Any) -> bool:
    """null, false, 0 and '' are false; everything else is true."""
    return value not in (None, False, 0, "") and value != []


def evaluate(node: Node, lookup: Callable[[Name], Any], status: Status | None = None) -> Any:
    """The value of `node`; names are resolved by `lookup` (which raises for an unknown one)."""
    state = status or Status()
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        return lookup(node)
    if isinstance(node, Not):
        return not truthy(evaluate(node.operand, lookup, state))
    if isinstance(node, Call):
        return _call(node, [evaluate(a, lookup, state) for a in node.args], state)
    if node.op == "or":
        left = evaluate(node.left, lookup, state)
        return left if truthy(left) else evaluate(node.right, lookup, state)
    if node.op == "and":
        left = evaluate(node.left, lookup, state)
        return evaluate(node.right, lookup, state) if truthy(left) else left
    return compare(node.op, evaluate(node.left, lookup, state), evaluate(node.right, lookup, state))


def _call(node: Call, args: Sequence[Any], state: Status) -> Any:
    name = node.function
    if name == "success":
        return not state.failed and not state.cancelled
    if name == "failure":
        return state.failed
    if name == "always":
        return True
    if name == "cancelled":
        return state.cancelled
    haystack, needle = args
    if name == "contains":
        if isinstance(haystack, list):
            return any(compare("==", item, needle) for item in haystack)
        return to_text(needle) in to_text(haystack)
    if name == "startsWith":
        return to_text(haystack).startswith(to_text(needle))
    return to_text(haystack).endswith(to_text(needle))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compare(op: str, left: Any, right: Any) -> bool:
    """`==`/`!=` compare values (numbers by value, never equal to a string); ordering needs two numbers or
    two strings (else false); `=~` matches `left` as text against the glob `right`."""
    if op == "=~":
        return left is not None and fnmatch.fnmatchcase(to_text(left), to_text(right))
    if op in ("==", "!="):
        return _equal(left, right) == (op == "==")
    both_numbers = _is_number(left) and _is_number(right)
    if not both_numbers and not (isinstance(left, str) and isinstance(right, str)):
        return False
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _is_number(left) or _is_number(right):
        return _is_number(left) and _is_number(right) and left == right
    return bool(left == right)


def to_text(value: Any) -> str:
    """How a value is written into a string: null is empty, booleans `true`/`false`, integral numbers
    without `.0`, lists comma-separated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, list):
        return ",".join(to_text(item) for item in value)
    return str(value)
