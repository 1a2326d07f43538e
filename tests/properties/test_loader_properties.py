"""Property-based tests of the TOML pipeline loader: whatever the document, `gryt.loader.load_toml` builds
a pipeline or raises a ConfigError/GrytError whose message is one line naming the file; never another
exception, never a traceback for the user."""

from __future__ import annotations

import math
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gryt.errors import GrytError
from gryt.loader import LoadedPipeline, load_toml
from gryt.testing import dump_toml

# No example database (nothing written into the working tree), no deadline (first calls import plugins).
fast = settings(
    database=None,
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Type names of every kind gryt and its plugins register, plus near misses and junk.
TYPE_NAMES = [
    "command",
    "local",
    "print",
    "directory",
    "env-vars",
    "files",
    "git",
    "python",
    "tools",
    "fly",
    "docker-registry",
    "Command",
    "comand",
    "",
    " ",
]

# Text TOML can hold (no surrogates), biased towards short identifiers.
text = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "_-. ", max_size=12),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
)
scalars = st.one_of(
    text,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
# Any TOML value, nested a little.
junk: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=6,
)


def maybe(value: st.SearchStrategy[Any], junk_one_in: int = 8) -> st.SearchStrategy[Any]:
    """Usually a plausible value, one time in `junk_one_in` any TOML value."""
    return st.integers(min_value=1, max_value=junk_one_in).flatmap(lambda n: junk if n == 1 else value)


def table(required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]) -> Any:
    """A dict with plausible keys (each optional one may be missing), now and then an unknown key."""
    plain = st.fixed_dictionaries(required, optional=optional)
    odd = st.fixed_dictionaries(required, optional={**optional, "unknown_key": junk, "tpye": junk})
    return st.integers(min_value=1, max_value=6).flatmap(lambda n: odd if n == 1 else plain)


ids = maybe(st.sampled_from(["a", "b", "build", "test", "x y", "", "runner_0", "dup"]))
args = st.text(alphabet=string.ascii_letters + string.digits + "-_=./ ", min_size=1, max_size=8)
cmd = maybe(st.one_of(st.lists(args, min_size=1, max_size=3), st.sampled_from(["echo hi", "", " "])))
numbers = maybe(
    st.one_of(
        st.integers(min_value=-2, max_value=10**6),
        st.floats(min_value=-2, max_value=1e6),
        st.sampled_from([float("nan"), float("inf"), 2**63 - 1]),
    )
)
step = table(
    {},
    {
        "id": ids,
        "type": maybe(st.sampled_from(TYPE_NAMES)),
        "cmd": cmd,
        "shell": maybe(st.booleans()),
        "env": maybe(st.dictionaries(text, text, max_size=2)),
        "cwd": maybe(text),
        "timeout": numbers,
        "retries": numbers,
        "retry_delay": numbers,
        "max_output": numbers,
    },
)
runner = table(
    {},
    {
        "id": ids,
        "needs": maybe(st.lists(ids, max_size=3)),
        "fail_fast": maybe(st.booleans()),
        "steps": maybe(st.lists(maybe(step), max_size=3)),
    },
)
typed = table({"type": maybe(st.sampled_from(TYPE_NAMES))}, {"id": ids, "path": maybe(text)})
pipeline_meta = table(
    {},
    {
        "name": maybe(text),
        "parallel": maybe(st.booleans()),
        "max_parallel": numbers,
        "secrets": maybe(st.lists(st.sampled_from(["TOKEN", "NPM_TOKEN", "", "x"]), max_size=3)),
    },
)
documents = table(
    {},
    {
        "pipeline": maybe(pipeline_meta),
        "runtime": maybe(table({}, {"type": maybe(st.sampled_from(TYPE_NAMES)), "env": junk, "cwd": junk})),
        "validators": maybe(st.lists(maybe(typed), max_size=2)),
        "auth": maybe(st.lists(maybe(typed), max_size=2)),
        "runners": maybe(st.lists(maybe(runner), max_size=3)),
        "destinations": maybe(st.lists(maybe(typed), max_size=2)),
        "hooks": maybe(st.lists(maybe(typed), max_size=2)),
        "artifacts": maybe(table({}, {"paths": maybe(st.lists(text, max_size=2))})),
    },
)


def optional(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> Any:
    """A value or None (left out)."""
    return draw(st.one_of(st.none(), values))


@st.composite
def valid_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Pipelines that are correct by construction: unique ids, acyclic known needs, sane values."""
    runner_ids = draw(
        st.lists(
            st.sampled_from(["build", "test", "lint", "docs", "deploy"]), min_size=1, max_size=4, unique=True
        )
    )
    runners = []
    for index, rid in enumerate(runner_ids):
        steps = []
        for number in range(draw(st.integers(min_value=1, max_value=3))):
            spec: dict[str, Any] = {"id": f"{rid}-{number}"}
            if draw(st.booleans()):
                spec["cmd"] = draw(st.lists(args, min_size=1, max_size=3))
            else:
                spec.update(cmd=draw(args.filter(str.strip)), shell=True)
            for key, values in (
                ("timeout", st.one_of(st.integers(0, 3600), st.floats(0, 3600))),
                ("retries", st.integers(0, 3)),
                ("retry_delay", st.floats(0, 5)),
                ("env", st.dictionaries(st.sampled_from(["A", "B_2", "LANG"]), args, max_size=2)),
                ("max_output", st.integers(1, 10**7)),
            ):
                value = optional(draw, values)
                if value is not None:
                    spec[key] = value
            steps.append(spec)
        table_: dict[str, Any] = {"id": rid, "steps": steps}
        needs = draw(st.lists(st.sampled_from(runner_ids[:index]), unique=True)) if index else []
        if needs:
            table_["needs"] = needs
        fail_fast = optional(draw, st.booleans())
        if fail_fast is not None:
            table_["fail_fast"] = fail_fast
        runners.append(table_)
    doc: dict[str, Any] = {}
    meta = {
        key: value
        for key, value in (
            ("name", optional(draw, st.sampled_from(["ci", "release", "nightly build"]))),
            ("parallel", optional(draw, st.booleans())),
            ("max_parallel", optional(draw, st.integers(1, 16))),
            ("secrets", optional(draw, st.lists(st.sampled_from(["TOKEN", "NPM_TOKEN"]), unique=True))),
        )
        if value is not None
    }
    if meta:
        doc["pipeline"] = meta
    if draw(st.booleans()):
        doc["runtime"] = {
            "type": "local",
            "env": draw(st.dictionaries(st.sampled_from(["A", "B"]), args, max_size=2)),
        }
    if draw(st.booleans()):
        doc["validators"] = [{"type": "env-vars", "required": ["HOME"]}]
    if draw(st.booleans()):
        doc["destinations"] = [{"type": "directory", "id": "out", "path": "dist"}]
        doc["artifacts"] = {"paths": ["dist/*.whl"]}
    doc["runners"] = runners
    return doc


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid pipeline with one to three random edits: a value replaced, a key removed or added."""
    doc = draw(valid_documents())
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        node: Any = doc
        while True:
            children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
            if not children:
                break
            key, child = draw(st.sampled_from(children))
            if isinstance(child, (dict, list)) and child and draw(st.integers(0, 3)) > 0:
                node = child
                continue
            action = draw(st.sampled_from(["replace", "remove", "add"]))
            if action == "replace":
                node[key] = draw(junk)
            elif action == "remove":
                del node[key]
            elif isinstance(node, dict):
                node[draw(st.sampled_from(["unknown", "tpye", "type", "id", "needs", "steps", "cmd"]))] = (
                    draw(junk)
                )
            else:
                node.append(draw(junk))
            break
    return doc


def check_load(source: str | bytes) -> LoadedPipeline | None:
    """Load `source` as a pipeline file: a LoadedPipeline, or None after checking the error is clean."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        if isinstance(source, bytes):
            path.write_bytes(source)
        else:
            path.write_text(source, encoding="utf-8")
        try:
            loaded = load_toml(path)
        except GrytError as exc:
            message = str(exc)
            assert message.strip(), "empty error message"
            assert "\n" not in message.strip(), f"multi-line error message: {message!r}"
            assert "fuzz.toml" in message, f"error does not name the file: {message!r}"
            assert "Traceback" not in message
            return None
    assert isinstance(loaded, LoadedPipeline)
    assert loaded.name
    assert loaded.pipeline is not None
    return loaded


def assert_sane(loaded: LoadedPipeline) -> None:
    """What a loaded pipeline promises the engine: finite, non-negative limits; string commands."""
    for runner in loaded.pipeline.runners:
        for step in runner.steps:
            config = step.config
            for key in ("timeout", "retry_delay"):
                value = config.get(key)
                assert value is None or (math.isfinite(value) and value >= 0), f"{step.id}.{key} = {value!r}"
            assert 0 <= config.get("retries", 0) <= 100, f"{step.id}.retries = {config.get('retries')!r}"
            cmd = config.get("cmd")
            assert isinstance(cmd, str) or (isinstance(cmd, list) and all(isinstance(a, str) for a in cmd))


@fast
@given(valid_documents())
def test_valid_documents_always_load(document: dict[str, Any]) -> None:
    """Correct pipelines load, keep every runner and step, and hold only sane values."""
    loaded = check_load(dump_toml(document))
    assert loaded is not None, document
    pipeline = loaded.pipeline
    assert [r.id for r in pipeline.runners] == [r["id"] for r in document["runners"]]
    for runner, spec in zip(pipeline.runners, document["runners"], strict=True):
        assert [s.id for s in runner.steps] == [s["id"] for s in spec["steps"]]
        assert list(runner.needs) == spec.get("needs", [])
    assert loaded.name == document.get("pipeline", {}).get("name", "fuzz")


@fast
@given(mutated_documents())
@example({"runners": [{"id": "a", "needs": ["a"], "steps": [{"cmd": ["true"]}]}]})
@example({"runners": [{"steps": [{"cmd": "echo hi"}]}]})
@example({"pipeline": {"max_parallel": 0}, "runners": [{"steps": [{"cmd": ["true"]}]}]})
@example({"runners": [{"steps": [{"cmd": ["true"], "retries": 10**9}]}]})
@example({"runners": [{"steps": [{"id": "s", "cmd": ["true"]}]}, {"steps": [{"id": "s", "cmd": ["true"]}]}]})
def test_edited_documents_load_or_fail_cleanly(document: dict[str, Any]) -> None:
    loaded = check_load(dump_toml(document))
    if loaded is not None:
        assert_sane(loaded)


@fast
@given(documents)
def test_arbitrary_documents_load_or_fail_cleanly(document: dict[str, Any]) -> None:
    loaded = check_load(dump_toml(document))
    if loaded is not None:
        assert_sane(loaded)


@fast
@given(
    st.lists(
        st.sampled_from(
            [
                *"[]{}=\",.\n #abc_01-'\\",
                "true",
                "false",
                "runners",
                "steps",
                "cmd",
                "[[runners]]",
                "[pipeline]",
            ]
        ),
        max_size=60,
    ).map("".join)
)
@example("[[runners]]\nsteps = [{cmd = ['true']}]\n")
@example("[[runners]]\nsteps = [{cmd = ['true']}]\n[[runners]]\n")
@example("[pipeline]\n[pipeline]\n")
def test_random_text_loads_or_fails_cleanly(source: str) -> None:
    check_load(source)


@fast
@given(st.binary(max_size=64))
@example(b"\xff\xfe[[runners]]")
@example(b"runners = [\x00]")
def test_random_bytes_load_or_fail_cleanly(source: bytes) -> None:
    check_load(source)


@pytest.mark.parametrize(
    ("key", "value"), [("timeout", "nan"), ("retry_delay", "nan"), ("retry_delay", "inf")]
)
def test_non_finite_numbers_are_rejected(key: str, value: str, tmp_path: Path) -> None:
    """`timeout = nan` would never time out and `retry_delay = inf` would sleep forever (or crash)."""
    path = tmp_path / "fuzz.toml"
    path.write_text(f'[[runners]]\nsteps = [{{ cmd = ["true"], retries = 1, {key} = {value} }}]\n')
    with pytest.raises(GrytError, match=key):
        load_toml(path)
