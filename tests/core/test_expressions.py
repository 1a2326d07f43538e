"""The expression language: truth tables of its operators and functions, its error messages (with the
column), and the `${{ }}` template rendering (quoting, escapes, defaults, contexts)."""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from gryt.expressions import ExpressionError, Name, Status, evaluate, parse, to_text
from gryt.variables import Contexts, Facts, render

VALUES: dict[str, Any] = {
    "tag": "v1.2.3",
    "branch": "main",
    "empty": "",
    "zero": 0,
    "three": 3,
    "none": None,
    "yes": True,
}


def value(source: str, status: Status | None = None) -> Any:
    def lookup(name: Name) -> Any:
        return VALUES[".".join(name.parts)]

    return evaluate(parse(source), lookup, status)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("tag =~ 'v*'", True),
        ("tag =~ 'V*'", False),  # case-sensitive
        ("branch =~ 'v*'", False),
        ("none =~ '*'", False),  # no tag: no match, even against *
        ("tag == 'v1.2.3'", True),
        ("tag != 'v1.2.3'", False),
        ("three == 3", True),
        ("three == 3.0", True),
        ("three == '3'", False),  # a number never equals a string
        ("yes == 1", False),
        ("yes == true", True),
        ("none == null", True),
        ("three > 2 and three <= 3", True),
        ("'b' > 'a'", True),
        ("three > 'a'", False),  # ordering a number and a string is false
        ("not empty", True),
        ("!zero", True),
        ("not (three > 2)", False),
        ("empty || 'fallback'", "fallback"),
        ("none or zero or 'last'", "last"),
        ("branch || 'fallback'", "main"),
        ("branch && tag", "v1.2.3"),
        ("empty and tag", ""),
        ("contains(tag, '.2.')", True),
        ("contains(tag, 'x')", False),
        ("startsWith(tag, 'v1')", True),
        ("endsWith(tag, '.3')", True),
        ("always()", True),
    ],
)
def test_truth_table(source: str, expected: Any) -> None:
    assert value(source) == expected


@pytest.mark.parametrize(
    ("failed", "cancelled", "success", "failure", "always", "is_cancelled"),
    [
        (False, False, True, False, True, False),
        (True, False, False, True, True, False),
        (False, True, False, False, True, True),
        (True, True, False, True, True, True),
    ],
)
def test_status_functions(
    failed: bool, cancelled: bool, success: bool, failure: bool, always: bool, is_cancelled: bool
) -> None:
    status = Status(failed=failed, cancelled=cancelled)
    assert value("success()", status) is success
    assert value("failure()", status) is failure
    assert value("always()", status) is always
    assert value("cancelled()", status) is is_cancelled
    assert value("failure() or cancelled()", status) is (failure or is_cancelled)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("git.tag == )", "unexpected ')' at column 12 in \"git.tag == )\""),
        ("(a", "unclosed '(' at column 1 in \"(a\""),
        ("(a b", "expected ')' (for the '(' at column 1), got 'b' at column 4"),
        ("a ==", 'unexpected end of expression in "a =="'),
        ("succes()", 'unknown function succes() (did you mean "success"?) at column 1'),
        ("contains(a)", "contains() takes 2 arguments, got 1 at column 1"),
        ("a == b == c", "'==' after a comparison: add parentheses at column 8"),
        ("'open", "unterminated string at column 1"),
        ("a ; b", "unexpected ';' at column 3"),
        ("", "empty expression"),
    ],
)
def test_errors_carry_the_column(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(ExpressionError, match="nested more than 64 levels"):
        parse("(" * 200 + "a" + ")" * 200)
    with pytest.raises(ExpressionError, match="longer than"):
        parse("a or " * 2000 + "a")


def test_to_text() -> None:
    assert [to_text(v) for v in (None, True, False, 3, 3.0, 2.5, "x", ["a", 1])] == [
        "",
        "true",
        "false",
        "3",
        "3",
        "2.5",
        "x",
        "a,1",
    ]


class _Versioning:
    def current_version(self) -> str:
        return "v2.0.1"


def contexts(**env: str) -> Contexts:
    return Contexts(
        env, {"python": "3.11"}, "RUN-1", "release", Facts(versioning=_Versioning()), secrets=("TOKEN",)
    )


def test_render_contexts_and_escapes() -> None:
    ctx = contexts(NAME="world")
    text = "${{ env.NAME }} ${{ matrix.python }} ${{ run.id }} ${{ pipeline.name }} ${{ version }} $${{ x }} $HOME ${HOME}"
    assert render(text, ctx) == "world 3.11 RUN-1 release 2.0.1 ${{ x }} $HOME ${HOME}"
    assert render("${{ env.MISSING || 'dflt' }}", ctx) == "dflt"
    assert render("${{ '}}' }}", ctx) == "}}"


@pytest.mark.parametrize("hostile", ["a'b", 'a"b', "x; rm -rf /", "$(touch pwned)", "`id`", "a\nb", "", " "])
def test_shell_quoting_gives_back_the_value(hostile: str) -> None:
    rendered = render("echo ${{ env.V }}", contexts(V=hostile), quote=True)
    assert shlex.split(rendered) == ["echo", hostile]


def test_secret_values_read_through_templates_are_registered() -> None:
    from gryt.masking import Masker

    masker = Masker()
    render("user:${{ env.TOKEN }}", contexts(TOKEN="hunter2-token"), masker=masker)
    render("${{ env.PLAIN }}", contexts(PLAIN="not-a-secret"), masker=masker)
    assert masker.mask("x hunter2-token y not-a-secret") == "x *** y not-a-secret"
