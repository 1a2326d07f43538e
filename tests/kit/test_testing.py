"""`gryt.testing`: assert_valid_plugin's checks, the isolated manager, projects, stubs and TOML output."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from importlib.metadata import entry_points

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gryt import plugins
from gryt.errors import PluginError
from gryt.testing import GrytProject, assert_valid_plugin, dump_toml, isolated_manager

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

pytest_plugins = ["gryt.testing"]

VALID = """
from pathlib import Path

from gryt import hookimpl
from gryt.config import ConfigKey
from gryt.destination import Destination


class Shelf(Destination):
    name = "shelf"
    summary = "Put artifacts on a shelf"
    config_keys = (ConfigKey("path", str, None, "Where", required=True),)

    def publish(self, artifacts):
        return [{"artifact": str(a), "status": "success"} for a in artifacts]


@hookimpl
def gryt_register_destinations(register):
    register(Shelf)


@hookimpl
def gryt_pipeline_end(result):
    pass
"""


@pytest.fixture
def make_plugin(tmp_path, monkeypatch):
    """Write a plugin module to a temp folder on sys.path and import it; modules are dropped afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(source: str):
        name = f"kit_plugin_{uuid.uuid4().hex[:10]}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        created.append(name)
        __import__(name)
        return sys.modules[name]

    yield make
    for name in created:
        sys.modules.pop(name, None)


def problems_of(plugin, **options) -> str:
    with pytest.raises(AssertionError) as info:
        assert_valid_plugin(plugin, **options)
    return str(info.value)


def test_a_valid_plugin_passes_every_check(make_plugin):
    assert_valid_plugin(make_plugin(VALID))


def test_unknown_hook_name_gets_a_did_you_mean(make_plugin):
    plugin = make_plugin(VALID.replace("def gryt_pipeline_end", "def gryt_pipline_end"))
    message = problems_of(plugin, check_import=False)
    assert "is not a valid gryt plugin" in message
    assert "gryt_pipline_end" in message and "gryt_pipeline_end" in message


def test_undecorated_hook_is_reported(make_plugin):
    plugin = make_plugin(VALID.replace("@hookimpl\ndef gryt_pipeline_end", "def gryt_pipeline_end"))
    assert "gryt_pipeline_end is not decorated with @gryt.hookimpl" in problems_of(plugin, check_import=False)


def test_arguments_must_be_a_subset_of_the_spec(make_plugin):
    plugin = make_plugin(
        VALID.replace("def gryt_pipeline_end(result)", "def gryt_pipeline_end(result, runner)")
    )
    message = problems_of(plugin, check_import=False)
    assert "unknown argument(s) runner" in message
    assert "pipeline, result, context" in message


def test_class_must_subclass_the_base_of_its_kind(make_plugin):
    plugin = make_plugin(
        VALID.replace("register(Shelf)", "from gryt.runtime import LocalRuntime\n    register(LocalRuntime)")
    )
    assert "is not a subclass of gryt.destination.Destination" in problems_of(plugin, check_import=False)


def test_type_name_must_be_lower_case_and_dashed(make_plugin):
    plugin = make_plugin(VALID.replace('name = "shelf"', 'name = "My_Shelf"'))
    assert 'invalid type name "My_Shelf"' in problems_of(plugin, check_import=False)


def test_abstract_class_and_multi_line_summary_are_both_reported(make_plugin):
    source = VALID.replace("    def publish(self, artifacts):\n", "    def _unused(self, artifacts):\n")
    source = source.replace('summary = "Put artifacts on a shelf"', 'summary = "line one\\nline two"')
    message = problems_of(make_plugin(source), check_import=False)
    assert "is abstract: implement publish" in message
    assert "summary must be one line" in message


def test_clash_with_a_builtin_type_is_reported(make_plugin):
    source = VALID + textwrap.dedent(
        """
        from gryt.runtime import Runtime

        class Local(Runtime):
            name = "local"
            def provision(self): pass
            def teardown(self): pass

        @hookimpl
        def gryt_register_runtimes(register):
            register(Local)
        """
    )
    message = problems_of(make_plugin(source), check_import=False)
    assert 'runtime type "local" is registered by both gryt-core' in message


def test_a_module_with_no_hook_is_reported(make_plugin):
    assert "it implements no gryt_* hook" in problems_of(make_plugin("X = 1\n"), check_import=False)


def test_heavy_module_level_import_is_reported_and_can_be_allowed(make_plugin):
    plugin = make_plugin("import asyncio\n" + VALID)
    message = problems_of(plugin)
    assert "loads heavy modules (asyncio" in message
    assert "inside the functions that use them" in message
    assert_valid_plugin(plugin, allow_imports=["asyncio", "ssl"], max_new_modules=1000)


def test_many_new_modules_exceed_the_budget(make_plugin):
    plugin = make_plugin("import tempfile\n" + VALID)
    assert_valid_plugin(plugin)
    assert "modules (limit 3" in problems_of(plugin, max_new_modules=3)


def test_an_object_plugin_is_checked_without_the_import_check():
    from gryt import hookimpl

    class Observer:
        @hookimpl
        def gryt_step_end(self, step, result):
            pass

    assert_valid_plugin(Observer(), check_import=False)
    assert "not an importable module" in problems_of(Observer())


def test_isolated_manager_holds_builtins_and_the_plugins_given_only(make_plugin):
    installed = {ep.name for ep in entry_points(group="gryt")}
    assert "validators" in installed  # gryt-validators is installed in the dev venv, and must not leak
    plugin = make_plugin(VALID)
    manager = isolated_manager(plugin)
    assert set(manager.plugins) == {"builtins", plugin.__name__}
    assert manager.registry.provider("destinations", "shelf") is manager.plugins[plugin.__name__]
    assert manager.registry.names("validators") == []
    assert manager.plugins[plugin.__name__].implements == ["gryt_pipeline_end", "gryt_register_destinations"]


def test_isolated_manager_raises_for_a_broken_plugin(make_plugin):
    plugin = make_plugin(VALID.replace('name = "shelf"', 'name = ""'))
    with pytest.raises(PluginError, match="has no type name"):
        isolated_manager(plugin)


def test_gryt_plugins_fixture_installs_an_isolated_manager(gryt_plugins, make_plugin):
    assert plugins.get_manager() is gryt_plugins.manager
    assert plugins.get_manager().registry.names("validators") == []
    plugin = make_plugin(VALID)
    manager = gryt_plugins(plugin)
    assert plugins.get_manager() is manager
    assert "shelf" in gryt_plugins.registry.names("destinations")


def test_gryt_plugins_fixture_restores_the_previous_manager(tmp_path):
    (tmp_path / "test_restore.py").write_text(
        textwrap.dedent(
            """
            import gryt.plugins as p

            pytest_plugins = ["gryt.testing"]
            SENTINEL = p.PluginManager(autoload=False).load()
            p.reset_manager(SENTINEL)

            def test_inside(gryt_plugins):
                assert p.get_manager() is gryt_plugins.manager is not SENTINEL

            def test_after():
                assert p.get_manager() is SENTINEL
            """
        )
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_restore.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "2 passed" in completed.stdout


def test_project_writes_pipelines_from_dicts_and_strings(gryt_project: GrytProject):
    pipeline = {
        "pipeline": {"name": "ci", "secrets": ["TOKEN"]},
        "runners": [
            {"id": "test", "steps": [{"id": "unit", "cmd": ["pytest", "-q"], "env": {"A": "1"}}]},
            {"id": "lint", "needs": ["test"], "steps": [{"id": "ruff", "cmd": ["ruff", "check", "."]}]},
        ],
        "artifacts": {"paths": ["dist/*.whl"]},
    }
    path = gryt_project.write_pipeline("ci", pipeline)
    assert path == gryt_project.root / ".gryt" / "pipelines" / "ci.toml"
    assert tomllib.loads(path.read_text()) == pipeline
    text = '[[runners]]\nsteps = [{ id = "a", cmd = ["true"] }]\n'
    assert gryt_project.write_pipeline("raw", text).read_text() == text
    assert tomllib.loads(gryt_project.write_config({"parallel": True}).read_text()) == {"parallel": True}
    assert gryt_project.write_file("dist/app.whl", "x").read_text() == "x"


def test_project_queries_its_database(gryt_project: GrytProject):
    with pytest.raises(FileNotFoundError, match="run a pipeline first"):
        gryt_project.query("SELECT 1")
    connection = sqlite3.connect(gryt_project.db_path)
    connection.execute("CREATE TABLE steps_output (step_id TEXT, output_json TEXT)")
    connection.execute("INSERT INTO steps_output VALUES ('unit', '{\"stdout\": \"***\"}')")
    connection.commit()
    connection.close()
    assert gryt_project.query("SELECT step_id FROM steps_output") == [{"step_id": "unit"}]
    assert "***" in gryt_project.database_text()


def test_stub_executable_is_found_on_path_and_records_calls(stub_executable, tmp_path):
    stub = stub_executable("deploytool", stdout="deployed\n", stderr="careful\n", exit_code=3)
    completed = subprocess.run(
        ["deploytool", "push", "--tag", "v1 beta"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert (completed.returncode, completed.stdout, completed.stderr) == (3, "deployed\n", "careful\n")
    subprocess.run(["deploytool"], cwd=tmp_path, check=False)
    assert stub.calls == [["push", "--tag", "v1 beta"], []]
    assert stub.records[0]["cwd"] == str(tmp_path)
    assert os.environ["PATH"].split(os.pathsep)[0] == str(stub.path.parent)


def test_stub_executable_rejects_a_path_as_name(stub_executable):
    with pytest.raises(ValueError, match="invalid executable name"):
        stub_executable("bin/evil")


def test_dump_toml_refuses_none_with_the_key_path():
    with pytest.raises(TypeError, match=r"runners\[0\].timeout: TOML cannot hold NoneType"):
        dump_toml({"runners": [{"id": "a", "timeout": None}]})


_keys = st.text(min_size=0, max_size=8)
_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=12),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=4))
def test_dump_toml_round_trips_through_tomllib(data):
    assert tomllib.loads(dump_toml(data)) == data


def test_project_runs_a_pipeline_and_records_it_without_secrets(gryt_plugins, gryt_project, monkeypatch):
    monkeypatch.setenv("KIT_SECRET", "kit-secret-value-123")
    gryt_project.write_file("dist/app.txt", "built")
    gryt_project.write_pipeline(
        "ci",
        {
            "pipeline": {"secrets": ["KIT_SECRET"]},
            "runners": [
                {
                    "id": "build",
                    "steps": [
                        {"id": "where", "cmd": [sys.executable, "-c", "import os; print(os.getcwd())"]},
                        {
                            "id": "leak",
                            "cmd": [sys.executable, "-c", "import os; print(os.environ['KIT_SECRET'])"],
                        },
                    ],
                }
            ],
            "destinations": [{"type": "directory", "id": "out", "path": "published"}],
            "artifacts": {"paths": ["dist/*.txt"]},
        },
    )
    cwd = os.getcwd()
    result = gryt_project.run("ci")
    assert os.getcwd() == cwd
    assert result["status"] == "success"
    steps = result["runners"]["build"]
    assert steps["where"]["stdout"].strip() == str(gryt_project.root)
    assert steps["leak"]["stdout"].strip() == "***"
    assert (gryt_project.root / "published" / "app.txt").read_text() == "built"
    assert gryt_project.query("SELECT status FROM pipelines WHERE pipeline_id = ?", [result["run_id"]]) == [
        {"status": "success"}
    ]
    stored = gryt_project.database_text()
    assert "***" in stored and "kit-secret-value-123" not in stored


def test_project_run_reports_a_failing_step(gryt_plugins, gryt_project):
    gryt_project.write_pipeline(
        "ci",
        {
            "runners": [
                {"id": "r", "steps": [{"id": "boom", "cmd": [sys.executable, "-c", "raise SystemExit(3)"]}]}
            ]
        },
    )
    result = gryt_project.run("ci")
    assert result["status"] == "error"
    assert result["runners"]["r"]["boom"]["returncode"] == 3


def test_run_pipeline_executes_a_python_pipeline_in_memory(gryt_plugins):
    from gryt.pipeline import Pipeline
    from gryt.runner import Runner
    from gryt.step import CommandStep
    from gryt.testing import run_pipeline

    pipeline = Pipeline([Runner([CommandStep("hi", {"cmd": [sys.executable, "-c", "print('hi')"]})], id="r")])
    result = run_pipeline(pipeline)
    assert result["status"] == "success"
    assert result["runners"]["r"]["hi"]["stdout"] == "hi\n"
    assert pipeline.data is None
