"""Every complete example in the docs works as documented.

Which blocks are checked: the fenced ```toml and ```python blocks (fence at column 0) of `DOC_FILES`. A
block preceded (blank lines aside) by an HTML comment starting `<!-- not-runnable` is skipped: it shows a
shape or an excerpt, not something to run. Every other block must be complete:

- TOML whose top-level keys are all pipeline keys is a pipeline and must pass `gryt validate`. A block
  without `[[runners]]` is a fragment (a `[[validators]]` or `[[auth]]` table shown on its own): one
  trivial runner is appended before validating it.
- TOML with a `[tool.gryt]` table is a project config (`pyproject.toml`): `gryt validate` of a trivial
  pipeline in a project using it must pass, so every key in it is known and well typed.
- Python runs in a fresh interpreter, in an empty project folder, with stub `pytest`, `ruff` and `python`
  executables first on PATH (each exits 0), so an example that executes a pipeline really runs it, fast.
  It must exit 0; a `PIPELINE` it defines must be a `Pipeline`, a `build()` without required arguments
  must return one, and a `result` dict it leaves must have status `success`.

Any other TOML block fails the test: mark it `<!-- not-runnable -->` if it is not a pipeline.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gryt.cli import app

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GRYT = str(BIN / "gryt")

DOC_FILES = (
    "README.md",
    "docs/github.md",
    "docs/pipelines.md",
    "docs/caching.md",
    "docs/concepts.md",
    "docs/validators.md",
    "docs/auth-docker.md",
    "docs/auth-fly.md",
    "docs/publishing.md",
    "docs/pypi.md",
    "docs/oci.md",
    "docs/npm.md",
    "docs/python.md",
    "docs/data.md",
    "docs/versioning.md",
    "docs/ci.md",
    "docs/report.md",
    "docs/rerun.md",
    "gryt-validators/README.md",
    "gryt-auth-docker/README.md",
    "gryt-auth-fly/README.md",
    "gryt-pypi/README.md",
    "gryt-oci/README.md",
    "gryt-npm/README.md",
    "docs/postgres.md",
    "gryt-postgres/README.md",
    "gryt-python/README.md",
)
PIPELINE_KEYS = {"pipeline", "runtime", "validators", "auth", "runners", "destinations", "hooks", "artifacts"}
STUBS = ("pytest", "ruff", "python")
TRIVIAL_RUNNER = '\n[[runners]]\nid = "docs_check"\nsteps = [{ id = "docs_check", cmd = ["true"] }]\n'
NOT_RUNNABLE = re.compile(r"^<!--\s*not-runnable\b")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Docs Test",
    "GIT_AUTHOR_EMAIL": "docs@example.com",
    "GIT_COMMITTER_NAME": "Docs Test",
    "GIT_COMMITTER_EMAIL": "docs@example.com",
}

# Run after an example's code, in its namespace: the checks of the module docstring.
CHECKS = """
import inspect
from gryt import Pipeline

if "PIPELINE" in globals():
    assert isinstance(PIPELINE, Pipeline), f"PIPELINE is {type(PIPELINE).__name__}, not a Pipeline"
if callable(globals().get("build")):
    required = [
        p for p in inspect.signature(build).parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if not required:
        built = build()
        assert isinstance(built, Pipeline), f"build() returned {type(built).__name__}, not a Pipeline"
if isinstance(globals().get("result"), dict) and "status" in result:
    assert result["status"] == "success", f"the example's run ended {result['status']}: {result.get('error')}"
"""


@dataclass(frozen=True)
class Block:
    """One fenced code block of a doc file."""

    path: str
    line: int
    lang: str
    text: str
    runnable: bool

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"


def blocks_of(path: str) -> Iterator[Block]:
    """The ```toml and ```python blocks of a markdown file, each flagged runnable or not."""
    lines = (REPO / path).read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("```"):
            index += 1
            continue
        lang = line[3:].strip()
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].rstrip() != "```":
            body.append(lines[index])
            index += 1
        index += 1
        if lang not in ("toml", "python"):
            continue
        before = start - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        marked = before >= 0 and bool(NOT_RUNNABLE.match(lines[before].strip()))
        yield Block(path, start + 1, lang, "\n".join(body) + "\n", not marked)


ALL_BLOCKS = [block for path in DOC_FILES for block in blocks_of(path)]
TOML_BLOCKS = [b for b in ALL_BLOCKS if b.runnable and b.lang == "toml"]
PYTHON_BLOCKS = [b for b in ALL_BLOCKS if b.runnable and b.lang == "python"]


def toml_kind(block: Block) -> str:
    """`pipeline`, `fragment` (a pipeline without runners) or `config` (a pyproject `[tool.gryt]`)."""
    document = tomllib.loads(block.text)
    if "gryt" in document.get("tool", {}):
        return "config"
    unknown = set(document) - PIPELINE_KEYS
    assert not unknown, (
        f"{block.id}: TOML block with non-pipeline keys {sorted(unknown)}; "
        "mark it <!-- not-runnable --> if it is not meant to be a pipeline"
    )
    return "pipeline" if "runners" in document else "fragment"


def command(argv: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command of the checks: text output captured, one minute at most, exit code left to the test."""
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


def base_env(home: Path, stub_bin: Path | None = None) -> dict[str, str]:
    """A small predictable environment: the stubs (if any), the venv's executables, the system tools."""
    path = [str(BIN), "/usr/local/bin", "/usr/bin", "/bin"]
    if stub_bin is not None:
        path.insert(0, str(stub_bin))
    return {
        "PATH": os.pathsep.join(path),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "COLUMNS": "160",
        **GIT_IDENTITY,
    }


def make_stubs(folder: Path) -> Path:
    """Executables named like the tools the examples call, each exiting 0 at once."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in STUBS:
        stub = folder / name
        stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        stub.chmod(0o755)
    return folder


def git_repo_tagged(project: Path) -> None:
    """docs/versioning.md starts from a repository whose latest tag is v1.2.3."""
    env = {**base_env(project), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "init"], ["tag", "v1.2.3"]):
        subprocess.run(["git", *args], cwd=project, env=env, check=True, capture_output=True, timeout=30)


SETUP: dict[str, Callable[[Path], None]] = {"docs/versioning.md": git_repo_tagged}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty gryt project: `.gryt/pipelines/` in a temp folder."""
    root = tmp_path / "project"
    (root / ".gryt" / "pipelines").mkdir(parents=True)
    return root


def validate_in_process(monkeypatch: pytest.MonkeyPatch, project: Path, pipeline: Path) -> tuple[int, str]:
    """`gryt validate PIPELINE` run by Typer in this process, from the project folder."""
    monkeypatch.chdir(project)
    monkeypatch.setenv("NO_COLOR", "1")
    done = CliRunner().invoke(app, ["validate", str(pipeline)], catch_exceptions=False)
    return done.exit_code, done.stdout + done.stderr


def test_every_doc_file_has_checked_blocks() -> None:
    """A file whose blocks all vanish (renamed fences, a broken extractor) must not pass silently."""
    for path in DOC_FILES:
        assert any(b.path == path and b.runnable for b in ALL_BLOCKS), f"{path}: no runnable block found"


def test_extractor_honours_the_marker() -> None:
    """The Results shape in concepts.md is marked and skipped; the example above it is checked."""
    concepts = [b for b in ALL_BLOCKS if b.path == "docs/concepts.md" and b.lang == "python"]
    assert [b.runnable for b in concepts] == [True, False]
    assert '"run_id"' in concepts[1].text


@pytest.mark.parametrize("block", TOML_BLOCKS, ids=lambda b: b.id)
def test_toml_block_passes_gryt_validate(
    block: Block, project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kind = toml_kind(block)
    if kind == "config":
        (project / "pyproject.toml").write_text(block.text, encoding="utf-8")
        pipeline = project / ".gryt" / "pipelines" / "docs_check.toml"
        pipeline.write_text(TRIVIAL_RUNNER, encoding="utf-8")
        # A subprocess: the config's disable_plugins would otherwise reconfigure this process's plugins.
        done = command([GRYT, "validate", "docs_check"], cwd=project, env=base_env(tmp_path))
        code, output = done.returncode, done.stdout + done.stderr
    else:
        text = block.text + (TRIVIAL_RUNNER if kind == "fragment" else "")
        pipeline = project / ".gryt" / "pipelines" / "docs_example.toml"
        pipeline.write_text(text, encoding="utf-8")
        code, output = validate_in_process(monkeypatch, project, pipeline)
    assert code == 0, f"{block.id}: gryt validate failed:\n{output}\n--- block ---\n{block.text}"
    assert output.startswith("ok: "), output


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.id)
def test_python_block_runs(block: Block, project: Path, tmp_path: Path) -> None:
    setup = SETUP.get(block.path)
    if setup is not None:
        setup(project)
    script = tmp_path / "example.py"
    script.write_text(block.text, encoding="utf-8")
    runner = (
        "import sys\n"
        "namespace = {'__name__': '__main__', '__file__': sys.argv[1]}\n"
        "exec(compile(open(sys.argv[1], encoding='utf-8').read(), sys.argv[1], 'exec'), namespace)\n"
        "exec(compile(sys.argv[2], '<docs checks>', 'exec'), namespace)\n"
    )
    done = command(
        [sys.executable, "-c", runner, str(script), CHECKS],
        cwd=project,
        env=base_env(tmp_path, make_stubs(tmp_path / "stubs")),
    )
    assert done.returncode == 0, (
        f"{block.id}: example failed (exit {done.returncode}):\n{done.stderr}\n--- block ---\n{block.text}"
    )


def test_readme_toml_pipeline_runs_with_gryt_run(project: Path, tmp_path: Path) -> None:
    """README: the TOML pipeline saved as `.gryt/pipelines/ci.toml` runs with `gryt run ci` and is recorded."""
    [block] = [b for b in TOML_BLOCKS if b.path == "README.md"]
    (project / ".gryt" / "pipelines" / "ci.toml").write_text(block.text, encoding="utf-8")
    env = base_env(tmp_path, make_stubs(tmp_path / "stubs"))
    run = command([GRYT, "run", "ci"], cwd=project, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^run \S+ success in", run.stdout, re.MULTILINE), run.stdout
    listed = command([GRYT, "runs", "list"], cwd=project, env=env)
    assert listed.returncode == 0 and " ci " in listed.stdout and "success" in listed.stdout, listed.stdout
    assert (project / ".gryt" / "gryt.db").is_file()


def test_readme_make_run_pipeline_resolves_from_the_repository(tmp_path: Path) -> None:
    """README: `make run` is `gryt run hello`, found through `[tool.gryt]` in the repository's pyproject."""
    done = command([GRYT, "validate", "hello"], cwd=REPO, env=base_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: examples/pipelines/hello.toml: pipeline 'hello', 2 runners"), (
        done.stdout
    )


def test_readme_hello_py_is_the_same_pipeline(tmp_path: Path) -> None:
    """README: `examples/hello.py` builds the same two runners and steps as hello.toml, and runs green."""
    code = (
        "import runpy, sys\n"
        "from gryt import SqliteData\n"
        "ns = runpy.run_path(sys.argv[1])\n"
        "with SqliteData(':memory:') as data:\n"
        "    pipeline = ns['build'](data)\n"
        "    shape = [(r.id, list(r.needs), [s.id for s in r.steps]) for r in pipeline.runners]\n"
        "    print(repr(shape))\n"
        "    print(pipeline.execute(parallel=True)['status'])\n"
    )
    done = command(
        [sys.executable, "-c", code, str(REPO / "examples" / "hello.py")],
        cwd=tmp_path,
        env=base_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    shape_line, status = done.stdout.strip().splitlines()[-2:]
    toml = tomllib.loads((REPO / "examples" / "pipelines" / "hello.toml").read_text(encoding="utf-8"))
    expected = [(r["id"], r.get("needs", []), [s["id"] for s in r["steps"]]) for r in toml["runners"]]
    assert shape_line == repr(expected)
    assert status == "success"


def test_webhook_readme_config_is_accepted(tmp_path: Path) -> None:
    """examples/plugins/gryt-webhook/README.md: its `.gryt/webhook.toml` example loads with those values."""
    [block] = [b for b in blocks_of("examples/plugins/gryt-webhook/README.md") if b.lang == "toml"]
    (tmp_path / ".gryt").mkdir()
    (tmp_path / ".gryt" / "webhook.toml").write_text(block.text, encoding="utf-8")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from gryt_webhook.settings import load_settings\n"
        "s = load_settings(Path(sys.argv[1]), environ={})\n"
        "print(s.url, s.token_env_var, s.header, repr(s.scheme), s.timeout)\n"
    )
    env = {**base_env(tmp_path), "PYTHONPATH": str(REPO / "examples" / "plugins" / "gryt-webhook" / "src")}
    done = command([sys.executable, "-c", code, str(tmp_path)], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "https://ci.example.com/hooks/gryt",
        "CI_HOOK_TOKEN",
        "Authorization",
        "'Bearer'",
        "10.0",
    ]
