"""Property tests of the expression language (`gryt.expressions`) and `${{ }}` templates: any text parses
or raises an ExpressionError with a column inside it, never another exception; any tree prints to text
that parses back to the same tree; evaluation of any tree never raises."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gryt.expressions import (
    FUNCTIONS,
    Binary,
    Call,
    ExpressionError,
    Literal,
    Name,
    Node,
    Not,
    Status,
    evaluate,
    parse,
    same,
    unparse,
)
from gryt.variables import Expr, parse_template

fast = settings(database=None, deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])

ALPHABET = string.ascii_letters + string.digits + " _.-'\"()!=<>~&|,\\\n$}{*"
IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in ("and", "or", "not", "true", "false", "null")
)


def literals() -> st.SearchStrategy[Node]:
    values = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=0, max_value=10**12),
        st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
    )
    return values.map(Literal)


def leaves() -> st.SearchStrategy[Node]:
    names = st.lists(IDENT, min_size=1, max_size=3).map(lambda parts: Name(tuple(parts)))
    return st.one_of(literals(), names)


def trees() -> st.SearchStrategy[Node]:
    def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        ops = st.sampled_from(["and", "or", "==", "!=", "<", "<=", ">", ">=", "=~"])
        calls = st.sampled_from(sorted(FUNCTIONS)).flatmap(
            lambda f: st.lists(children, min_size=FUNCTIONS[f], max_size=FUNCTIONS[f]).map(
                lambda args: Call(f, tuple(args))
            )
        )
        return st.one_of(
            st.builds(Binary, ops, children, children),
            children.map(Not),
            calls,
        )

    return st.recursive(leaves(), extend, max_leaves=12)


@fast
@given(st.text(alphabet=ALPHABET, max_size=60))
@example("a == )")
@example("'unterminated")
@example("((((")
@example("succes()")
def test_any_text_parses_or_fails_with_a_column(text: str) -> None:
    try:
        node = parse(text)
    except ExpressionError as exc:
        assert exc.column is None or 1 <= exc.column <= len(text) + 1
        assert "\n" not in exc.reason
        return
    assert same(parse(unparse(node)), node)


@fast
@given(trees())
def test_print_parse_round_trip(tree: Node) -> None:
    text = unparse(tree)
    assert same(parse(text), tree), text


@fast
@given(trees(), st.booleans(), st.booleans())
def test_evaluation_never_raises(tree: Node, failed: bool, cancelled: bool) -> None:
    values: dict[tuple[str, ...], Any] = {}

    def lookup(name: Name) -> Any:
        return values.setdefault(name.parts, "x" if len(name.parts) % 2 else None)

    evaluate(tree, lookup, Status(failed=failed, cancelled=cancelled))


@fast
@given(st.text(alphabet=ALPHABET, max_size=80))
@example("${{ a }}${{ b }}")
@example("${{ '}}' }}")
@example("${{ a")
def test_templates_parse_or_fail_with_a_column(text: str) -> None:
    try:
        parts = parse_template(text)
    except ExpressionError as exc:
        assert exc.column is None or 1 <= exc.column <= len(text) + 1
        return
    if "${{" not in text:
        assert parts == ([text] if text else [])


LITERAL = st.text(alphabet=string.ascii_letters + " -;'\"$()", max_size=6)


@fast
@given(st.lists(st.one_of(LITERAL, trees()), max_size=5))
def test_template_round_trip(pieces: list[Any]) -> None:
    """Literal text (with `$${{` escapes) and expressions joined into a template come back in order."""
    text = "".join(p + "$${{" if isinstance(p, str) else "${{ " + unparse(p) + " }}" for p in pieces)
    parts = parse_template(text)
    expected_literal = "".join(p + "${{" if isinstance(p, str) else "\0" for p in pieces)
    got_literal = "".join(p if isinstance(p, str) else "\0" for p in parts)
    assert got_literal == expected_literal
    trees_in = [p for p in pieces if not isinstance(p, str)]
    trees_out = [p.node for p in parts if isinstance(p, Expr)]
    assert len(trees_in) == len(trees_out)
    assert all(same(a, b) for a, b in zip(trees_in, trees_out, strict=True))
