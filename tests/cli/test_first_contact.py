"""First contact with the real `gryt` executable: what a newcomer (or a user of the original gryt) meets
first must be right: in-memory databases, an empty history, run ids, failure output, `gryt init`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from .conftest import pipeline, write

HELLO = '[[runners]]\nid = "main"\nsteps = [{ id = "hello", cmd = ["echo", "hi"] }]\n'


def _names(root: Path) -> set[str]:
    """Every file and folder name below `root`."""
    return {p.name for p in root.rglob("*")}


def test_memory_db_option_and_config_keep_nothing_on_disk(gryt, project: Path) -> None:
    pipeline(project, "hello.toml", HELLO)
    by_option = gryt("run", "hello", "--db", ":memory:", cwd=project)
    assert by_option.code == 0, by_option.stdout + by_option.stderr
    write(project / ".gryt" / "config.toml", 'db = ":memory:"\n')
    by_config = gryt("run", "hello", cwd=project)
    assert by_config.code == 0, by_config.stdout + by_config.stderr
    assert re.search(r"^run \S+ success in", by_config.stdout, re.MULTILINE)
    assert not {":memory:", "logs", "gryt.db"} & _names(project), sorted(_names(project))

    # Nothing was recorded, and reading the history neither fails nor creates anything.
    listed = gryt("runs", "list", "--json", cwd=project)
    assert (listed.code, listed.stdout.strip()) == (0, "[]"), listed.stderr
    assert not {":memory:", "logs", "gryt.db"} & _names(project)


def test_runs_list_in_a_fresh_clone_is_an_empty_history(gryt, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    write(clone / "pyproject.toml", '[project]\nname = "app"\n\n[tool.gryt]\n')
    listed = gryt("runs", "list", cwd=clone)
    assert (listed.code, listed.stdout.strip(), listed.stderr) == (0, "No runs yet.", "")
    as_json = gryt("runs", "list", "--json", cwd=clone)
    assert (as_json.code, json.loads(as_json.stdout)) == (0, [])
    # Read-only: like `gryt runs show` and `gryt db`, listing creates no database.
    assert not (clone / ".gryt").exists()
    shown = gryt("runs", "show", "last", cwd=clone)
    assert shown.code == 2 and shown.error_lines == ["gryt: error: no run 'last': no runs recorded yet"]
    assert not (clone / ".gryt").exists()
    assert gryt("init", cwd=clone).code == 0  # an empty database now exists: the same answers
    assert gryt("runs", "list", cwd=clone).stdout.strip() == "No runs yet."
    empty = gryt("runs", "show", "last", cwd=clone)
    assert empty.code == 2 and empty.error_lines == [
        "gryt: error: .gryt/gryt.db: no run 'last': no runs recorded yet"
    ]
    # A database named with --db must exist: a typo is not an empty history.
    typo = gryt("runs", "list", "--db", "histroy.db", cwd=clone)
    assert typo.code == 2 and typo.error_lines == [
        "gryt: error: histroy.db: no database here yet (run a pipeline or `gryt init` first)"
    ]


def test_runs_show_takes_a_prefix_a_suffix_or_last(gryt, project: Path) -> None:
    pipeline(project, "hello.toml", HELLO)
    for _ in range(3):
        assert gryt("run", "hello", cwd=project).code == 0
    runs = json.loads(gryt("runs", "list", "--json", cwd=project).stdout)
    ids = [run["run_id"] for run in runs]
    assert len(set(ids)) == 3

    def shown(ref: str) -> str:
        done = gryt("runs", "show", ref, "--json", cwd=project)
        assert done.code == 0, done.stderr
        return str(json.loads(done.stdout)["run_id"])

    assert shown("last") == ids[0]
    for run_id in ids:
        assert shown(run_id) == run_id
        assert shown(run_id.rsplit("-", 1)[1]) == run_id  # the random suffix alone
    # A prefix all runs share: one line listing the candidates, exit 2.
    common = ids[0][:4]
    ambiguous = gryt("runs", "show", common, cwd=project)
    assert ambiguous.code == 2 and len(ambiguous.error_lines) == 1, ambiguous.stderr
    assert f"run id '{common}' is ambiguous" in ambiguous.stderr
    assert all(run_id in ambiguous.stderr for run_id in ids)
    assert "Traceback" not in ambiguous.stderr
    unknown = gryt("runs", "show", "zz9", cwd=project)
    assert unknown.code == 2 and unknown.error_lines == [
        "gryt: error: .gryt/gryt.db: no run 'zz9' (no id starts or ends with it); see `gryt runs list`"
    ]


LOUD_FAILURE = """\
[[runners]]
id = "main"
steps = [{ id = "fails", cmd = ["sh", "-c", "for i in $(seq 1 30); do echo out $i; done; echo oops >&2; exit 3"] }]
"""


def test_failure_shows_a_configurable_tail_and_the_full_log(gryt, project: Path) -> None:
    pipeline(project, "loud.toml", LOUD_FAILURE)
    default = gryt("run", "loud", cwd=project)
    assert default.code == 1, default.stdout + default.stderr
    shown = default.stdout.split("--- main/fails stdout (last 20 lines) ---\n", 1)[1].splitlines()
    assert shown[:20] == [f"out {i}" for i in range(11, 31)]
    [log] = [line for line in shown if "full log:" in line]
    relative = log.split("main/fails full log: ", 1)[1]
    assert re.fullmatch(r"\.gryt/logs/\S+/main\.fails\.log", relative), log
    full = (project / relative).read_text()
    assert "out 1\n" in full and "oops" in full

    short = gryt("run", "loud", "--tail", "2", cwd=project)
    assert "--- main/fails stdout (last 2 lines) ---\nout 29\nout 30\nmain/fails full log: " in short.stdout
    assert "out 28" not in short.stdout

    write(project / ".gryt" / "config.toml", "failure_tail = 0\n")
    quiet = gryt("run", "loud", cwd=project)
    assert (
        quiet.code == 1 and "---" not in quiet.stdout and "main/fails full log: .gryt/logs/" in quiet.stdout
    )
    assert (
        "--- main/fails stderr (last 1 lines) ---\noops\n"
        in gryt("run", "loud", "--tail", "1", cwd=project).stdout
    )

    bad = gryt("run", "loud", "--tail", "-1", cwd=project)
    assert bad.code == 2 and bad.error_lines == ["gryt: error: --tail: must be at least 0, got -1"]
    write(project / ".gryt" / "config.toml", "failure_tail = -5\n")
    bad_config = gryt("run", "loud", cwd=project)
    assert bad_config.code == 2 and bad_config.error_lines == [
        "gryt: error: .gryt/config.toml: failure_tail: must be at least 0, got -5"
    ]


FAILING_AUTH = """\
[[auth]]
type = "docker-registry"
id = "registry"
registry = "registry.example.invalid"
username = "me"
token_env_var = "GRYT_FIRST_CONTACT_NO_TOKEN"

[[runners]]
id = "main"
steps = [{ id = "hello", cmd = ["echo", "hi"] }]
"""


def test_an_auth_failure_is_reported_once(gryt, project: Path) -> None:
    pipeline(project, "login.toml", FAILING_AUTH)
    done = gryt("run", "login", cwd=project)
    assert done.code == 1
    output = done.stdout + done.stderr
    assert output.count("GRYT_FIRST_CONTACT_NO_TOKEN") == 1, output
    assert "auth registry failed: environment variable GRYT_FIRST_CONTACT_NO_TOKEN is not set" in done.stdout
    assert re.search(r"^run \S+ auth_failed in", done.stdout, re.MULTILINE)


def test_live_view_leaves_auth_failures_to_the_summary() -> None:
    from rich.console import Console

    from gryt.cli.progress import LiveProgress

    console = Console(record=True, width=120, force_terminal=True)
    with LiveProgress(console=console) as view:
        view.on_error("auth:registry", "auth step 'registry' failed: token not set")
        view.on_error("runtime:local", "runtime local failed to provision: disk full")
    text = console.export_text()
    assert "token not set" not in text
    assert "error in runtime:local: runtime local failed to provision: disk full" in text


def test_step_and_runner_selection_suggest_the_closest_name(gryt, project: Path) -> None:
    preset = gryt("new", "ci", "--steps", "pyhton", cwd=project)
    assert preset.code == 2 and preset.error_lines == [
        "gryt: error: --steps: unknown preset 'pyhton' (did you mean \"python\"?); "
        "known presets: python, go, node, rust, docker"
    ]
    assert not (project / ".gryt" / "pipelines" / "ci.toml").exists()
    pipeline(project, "hello.toml", HELLO)
    runner = gryt("run", "hello", "--runner", "mian", cwd=project)
    assert runner.code == 2 and runner.error_lines == [
        'gryt: error: --runner: unknown runner "mian" (did you mean "main"?); runners: main'
    ]


RUFF = str(Path(sys.executable).parent / "ruff")
STRICT_RUFF = """\
[project]
name = "app"
version = "0.1.0"

[tool.ruff]
line-length = 79

[tool.ruff.lint]
select = ["ALL"]
ignore = ["CPY001", "D203", "D213", "COM812"]
"""


def _repo(root: Path) -> Path:
    """A fresh git repository with a strict ruff config and one lint-clean module of its own."""
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    write(root / "pyproject.toml", STRICT_RUFF)
    write(root / "app" / "__init__.py", '"""The app."""\n')
    return root


def _ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUFF, *args], cwd=cwd, capture_output=True, text=True, check=False)


def _generated(root: Path) -> list[Path]:
    return sorted(p for p in (root / ".gryt").rglob("*") if p.is_file() and p.name != "gryt.db")


def test_init_writes_toml_that_the_users_linters_never_see(gryt, tmp_path: Path) -> None:
    root = _repo(tmp_path / "app")
    assert _ruff("check", ".", cwd=root).returncode == 0  # the user's repository is clean before init
    done = gryt("init", cwd=root)
    assert done.code == 0, done.stderr
    assert [p.relative_to(root).as_posix() for p in _generated(root)] == [
        ".gryt/.gitignore",
        ".gryt/config.toml",
        ".gryt/pipelines/example.toml",
    ]
    lint = _ruff("check", ".", cwd=root)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    ran = gryt("run", "example", cwd=root)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "hello/greet success" in ran.stdout and "build/build success" in ran.stdout


def test_init_format_py_writes_a_lint_clean_python_example(gryt, tmp_path: Path) -> None:
    root = _repo(tmp_path / "app")
    done = gryt("init", "--format", "py", cwd=root)
    assert done.code == 0, done.stderr
    example = root / ".gryt" / "pipelines" / "example.py"
    assert (root / ".gryt" / "pipelines").is_dir() and [p.name for p in example.parent.iterdir()] == [
        "example.py"
    ]
    # Every rule but the implicit namespace package a lone pipeline file always is (the user chose .py).
    lint = _ruff("check", "--ignore", "INP001", ".", cwd=root)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert _ruff("format", "--check", ".", cwd=root).returncode == 0
    ran = gryt("run", "example", cwd=root)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "hello/where success" in ran.stdout and "build/build success" in ran.stdout

    other = gryt("init", "--format", "toml", "--force", cwd=root)
    assert other.code == 2 and other.error_lines == [
        "gryt: error: .gryt/pipelines/example.py: exists; "
        "an example.toml next to it would make the name ambiguous"
    ]
    bad = gryt("init", "--format", "yaml", cwd=tmp_path)
    assert bad.code == 2 and bad.error_lines == [
        "gryt: error: --format: unknown format 'yaml'; use toml or py"
    ]


def test_generated_files_point_at_nothing_outside_the_project(gryt, tmp_path: Path) -> None:
    for fmt in ("toml", "py"):
        assert gryt("init", fmt, "--format", fmt, cwd=tmp_path).code == 0
        assert gryt("new", "ci", "--steps", "python", "--format", fmt, cwd=tmp_path / fmt).code == 0
    assert gryt("plugins", "new", "gryt-thing", "--kind", "step", "--path", "plugin", cwd=tmp_path).code == 0
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".toml", ".py", ".md", "")]
    assert len(files) > 10
    for file in files:
        text = file.read_text(encoding="utf-8", errors="replace")
        assert "docs/" not in text and "://" not in text and "DESIGN" not in text, file


def test_init_inside_a_project_needs_force(gryt, tmp_path: Path) -> None:
    parent = tmp_path / "mono"
    parent.mkdir()
    assert gryt("init", cwd=parent).code == 0
    sub = parent / "services" / "api"
    sub.mkdir(parents=True)
    nested = gryt("init", cwd=sub)
    assert nested.code == 2 and nested.error_lines == [
        f"gryt: error: {parent}: already a gryt project (.gryt/) and gryt works from any folder below it; "
        f"pass --force to create a second project inside it, at {sub}"
    ]
    assert not (sub / ".gryt").exists()
    by_path = gryt("init", "services/api", cwd=parent)
    assert by_path.code == 2 and "pass --force" in by_path.stderr and not (sub / ".gryt").exists()

    # [tool.gryt] in a pyproject marks a project too; --force creates the second one anyway.
    other = tmp_path / "tool"
    write(other / "pyproject.toml", '[project]\nname = "x"\n\n[tool.gryt]\n')
    (other / "pkg").mkdir()
    marked = gryt("init", cwd=other / "pkg")
    assert marked.code == 2 and "(.gryt/)" not in marked.stderr
    assert f"{other}: already a gryt project ([tool.gryt] in pyproject.toml)" in marked.stderr
    forced = gryt("init", "--force", cwd=sub)
    assert forced.code == 0, forced.stderr
    assert (sub / ".gryt" / "pipelines" / "example.toml").is_file()
    assert gryt("run", "example", cwd=sub).code == 0
    assert gryt("runs", "list", "--json", cwd=parent).stdout.strip() == "[]"


LITERAL_ENV = """\
[runtime]
type = "local"
env = { FROM_RUNTIME = "${HOME}" }

[[runners]]
id = "main"
steps = [
  { id = "show", cmd = ["sh", "-c", "printf '%s|%s|%s' \\"$FROM_STEP\\" \\"$FROM_RUNTIME\\" \\"$HOME\\""], env = { FROM_STEP = "$HOME/bin" } },
]
"""


def test_env_values_are_taken_literally_as_documented(gryt, project: Path, tmp_path: Path) -> None:
    pipeline(project, "env.toml", LITERAL_ENV)
    done = gryt("run", "env", "--json", cwd=project)
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout)["runners"]["main"]["show"]["stdout"] == f"$HOME/bin|${{HOME}}|{tmp_path}"
    docs = (Path(__file__).resolve().parents[2] / "docs" / "pipelines.md").read_text(encoding="utf-8")
    steps = docs.split("### Steps", 1)[1].split("### `[[destinations]]`", 1)[0]
    assert "`env` values are strings taken literally" in steps and "are not expanded" in steps
