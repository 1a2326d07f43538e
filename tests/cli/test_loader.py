"""The pipeline loader in-process: TOML tables -> core objects, `.py` files, and the key paths in errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gryt.artifacts import ArtifactSpec
from gryt.errors import ConfigError
from gryt.loader import load_pipeline, resolve_pipeline_path
from gryt.project import load_project

from .conftest import pipeline


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)
    message = str(caught.value)
    assert "\n" not in message
    assert path.name in message
    return message


def test_toml_builds_every_section(project: Path) -> None:
    path = pipeline(
        project,
        "full.toml",
        """
        [pipeline]
        name = "ci"
        parallel = true
        max_parallel = 2
        secrets = ["MY_TOKEN"]

        [runtime]
        env = { CI = "1" }

        [[validators]]
        type = "env-vars"
        required = ["HOME"]

        [[runners]]
        id = "test"
        steps = [{ id = "lint", cmd = ["true"] }, { cmd = ["echo", "hi"], retries = 1, timeout = 5 }]

        [[runners]]
        id = "build"
        needs = ["test"]
        fail_fast = false
        steps = [{ id = "wheel", cmd = ["true"] }]

        [[destinations]]
        type = "directory"
        path = "out"

        [[hooks]]
        type = "print"

        [artifacts]
        paths = ["dist/*.whl"]
        """.replace("\n        ", "\n"),
    )
    loaded = load_pipeline(path)
    pipe = loaded.pipeline
    assert loaded.name == pipe.name == "ci"
    assert loaded.parallel is True and loaded.max_parallel == 2 == pipe.max_parallel
    assert pipe.artifacts == [ArtifactSpec("dist/*.whl")]
    assert pipe.secrets == ["MY_TOKEN"]
    assert pipe.runtime is not None
    assert type(pipe.runtime).name == "local" and pipe.runtime.env == {"CI": "1"}
    assert [type(v).name for v in loaded.validators] == ["env-vars"]
    assert [r.id for r in pipe.runners] == ["test", "build"]
    assert [s.id for s in pipe.runners[0].steps] == ["lint", "test_step_1"]
    assert pipe.runners[0].steps[1].config["retries"] == 1
    assert pipe.runners[1].needs == ("test",) and pipe.runners[1].fail_fast is False
    assert [d.id for d in pipe.destinations] == ["directory"]
    assert [type(h).name for h in pipe.hooks] == ["print"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '[[runners]]\nsteps = [{ id = "a", cmd = ["true"], timeout = "ten" }]\n',
            'runners[0].steps[0].timeout: expected a number, got "ten"',
        ),
        (
            '[[runners]]\nsteps = [{ id = "a", cmd = ["true"] }, { id = "b", comand = ["x"] }]\n',
            'runners[0].steps[1].comand: unknown key (did you mean "cmd"?)',
        ),
        (
            '[[runners]]\nsteps = [{ type = "comand", cmd = ["true"] }]\n',
            'runners[0].steps[0].type: unknown step type "comand"',
        ),
        (
            '[[runners]]\nsteps = [{ id = "a", cmd = "echo hi" }]\n',
            "runners[0].steps[0].cmd: a string needs shell = true",
        ),
        ('[pipelin]\nname = "x"\n', 'pipelin: unknown key (did you mean "pipeline"?)'),
        ('[pipeline]\nname = "x"\n', "runners: no runners"),
        ('[[runners]]\nid = "a"\nsteps = []\n', "runners[0].steps: a runner needs at least one step"),
        (
            '[[runners]]\nid = "a"\nsteps = [{ cmd = ["true"] }]\n[[runners]]\nid = "a"\nsteps = [{ cmd = ["true"] }]\n',
            'runners[1].id: duplicate runner id "a" (also at runners[0])',
        ),
        (
            '[[runners]]\nsteps = [{ id = "s", cmd = ["true"] }, { id = "s", cmd = ["true"] }]\n',
            'runners[0].steps[1].id: duplicate step id "s" (also at runners[0].steps[0])',
        ),
        (
            '[[runners]]\nid = "build"\nsteps = [{ cmd = ["true"] }]\n[[runners]]\nid = "x"\nneeds = ["biuld"]\nsteps = [{ cmd = ["true"] }]\n',
            'runners[1].needs: unknown runner "biuld" (did you mean "build"?)',
        ),
        (
            '[[runners]]\nid = "a"\nneeds = ["b"]\nsteps = [{ cmd = ["true"] }]\n[[runners]]\nid = "b"\nneeds = ["a"]\nsteps = [{ cmd = ["true"] }]\n',
            "runners: needs form a cycle: a -> b -> a",
        ),
        (
            '[[runners]]\nid = "a"\nneeds = ["a"]\nsteps = [{ cmd = ["true"] }]\n',
            'runner "a" cannot need itself',
        ),
        (
            '[[auth]]\ntype = "flyy"\n[[runners]]\nsteps = [{ cmd = ["true"] }]\n',
            'auth[0].type: unknown auth type "flyy" (did you mean "fly"?)',
        ),
        (
            '[[validators]]\ntype = "env-vars"\nrequired = "HOME"\n[[runners]]\nsteps = [{ cmd = ["true"] }]\n',
            'validators[0].required: expected a list, got "HOME"',
        ),
        (
            '[[destinations]]\ntype = "directory"\n[[runners]]\nsteps = [{ cmd = ["true"] }]\n',
            "destinations[0].path: required key is missing",
        ),
        (
            '[artifacts]\npaths = ["a", 3]\n[[runners]]\nsteps = [{ cmd = ["true"] }]\n',
            "artifacts.paths[1]: expected a glob or a table, got an integer (3)",
        ),
        (
            '[artifacts]\npaths = [""]\n[[runners]]\nsteps = [{ cmd = ["true"] }]\n',
            "artifacts.paths[0]: expected a glob of files or folders, got ''",
        ),
        (
            '[pipeline]\nsecrets = "TOKEN"\n[[runners]]\nsteps = [{ cmd = ["true"] }]\n',
            'pipeline.secrets: expected a list, got "TOKEN"',
        ),
        ("runners = 3\n", "runners: expected a list, got 3"),
        ('[[runners]]\nsteps = ["echo hi"]\n', "runners[0].steps[0]: expected a table, got a string"),
        ('[pipeline\nname = "x"\n', "invalid TOML"),
    ],
)
def test_toml_errors_name_the_key_path(project: Path, body: str, expected: str) -> None:
    message = load_error(pipeline(project, "bad.toml", body))
    assert expected in message, message


def test_toml_syntax_error_has_line_and_column(project: Path) -> None:
    message = load_error(pipeline(project, "bad.toml", '[pipeline]\nname = "x"\nparallel = \n'))
    assert "line 3" in message and "column" in message


def test_python_pipeline_with_build_and_with_constant(project: Path) -> None:
    body = textwrap.dedent(
        """
        from gryt import CommandStep, Pipeline, Runner

        def build():
            return Pipeline([Runner([CommandStep("a", {"cmd": ["true"]})], id="r")])
        """
    )
    loaded = load_pipeline(pipeline(project, "script.py", body))
    assert loaded.name == "script" == loaded.pipeline.name
    assert [r.id for r in loaded.pipeline.runners] == ["r"]

    constant = 'from gryt import CommandStep, Pipeline, Runner\nPIPELINE = Pipeline([Runner([CommandStep("a", {"cmd": ["true"]})])], name="named")\n'
    assert load_pipeline(pipeline(project, "const.py", constant)).name == "named"


def test_python_pipeline_can_import_its_neighbours(project: Path) -> None:
    pipeline(project, "_helpers.py", "STEP_ID = 'from-helper'\n")
    body = (
        "from _helpers import STEP_ID\n"
        "from gryt import CommandStep, Pipeline, Runner\n"
        "PIPELINE = Pipeline([Runner([CommandStep(STEP_ID, {'cmd': ['true']})])])\n"
    )
    loaded = load_pipeline(pipeline(project, "uses.py", body))
    assert loaded.pipeline.runners[0].steps[0].id == "from-helper"
    assert str(project / ".gryt" / "pipelines") not in __import__("sys").path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "x = 1\n\nraise RuntimeError('boom at import')\n",
            "bad.py:3: failed to import: RuntimeError: boom at import",
        ),
        ("def broken(:\n    pass\n", "bad.py:1: failed to import: SyntaxError"),
        ("VALUE = 1\n", "defines no pipeline: set PIPELINE"),
        ("def build():\n    return 42\n", "build() is int, expected a gryt Pipeline"),
        ("def build():\n    return {}['missing']\n", "bad.py:2: build() raised: KeyError"),
        ("def build(target):\n    pass\n", "build() must take no required arguments"),
        ("import sys\nsys.exit(3)\n", "called sys.exit(3)"),
        (
            "from gryt import CommandStep, Runner, Pipeline\nPIPELINE = Pipeline([Runner([CommandStep('a', {'cmd': 'echo'})])])\n",
            "a.cmd: a string needs shell = true",
        ),
    ],
)
def test_python_errors_name_the_file_and_line(project: Path, body: str, expected: str) -> None:
    message = load_error(pipeline(project, "bad.py", body))
    assert expected in message, message


def test_pipeline_names_resolve_in_the_pipelines_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    proj = load_project()
    one = pipeline(project, "one.toml", '[[runners]]\nsteps = [{ cmd = ["true"] }]\n')
    assert resolve_pipeline_path("one", proj) == one.resolve()
    assert resolve_pipeline_path(".gryt/pipelines/one.toml", proj) == one.resolve()

    pipeline(project, "two.toml", "")
    pipeline(project, "two.py", "")
    with pytest.raises(ConfigError, match=r"ambiguous.*two\.toml.*two\.py"):
        resolve_pipeline_path("two", proj)
    with pytest.raises(
        ConfigError, match=r"'onr'.*did you mean \"one\".*available: one\.toml, two\.py, two\.toml"
    ):
        resolve_pipeline_path("onr", proj)
    with pytest.raises(ConfigError, match=r"missing\.toml: no such pipeline file"):
        resolve_pipeline_path("missing.toml", proj)
