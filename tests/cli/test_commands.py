"""init, new, version, db and runs on their own (no pipeline run needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gryt.project import load_project

from .conftest import write

GIT_ENV = {
    "GIT_AUTHOR_NAME": "gryt tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "gryt tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


def test_init_creates_the_layout_and_refuses_to_overwrite(cli, tmp_path: Path) -> None:
    done = cli("init", "app", cwd=tmp_path)
    assert done.code == 0, done.stderr
    gryt_dir = tmp_path / "app" / ".gryt"
    assert (gryt_dir / "gryt.db").read_bytes().startswith(b"SQLite format 3")
    config = (gryt_dir / "config.toml").read_text()
    assert all(line.startswith("#") or not line.strip() for line in config.splitlines())
    assert (gryt_dir / "pipelines" / "example.toml").is_file()
    assert sorted(p.name for p in (gryt_dir / "pipelines").iterdir()) == ["example.toml"]
    assert load_project(tmp_path / "app").root == (tmp_path / "app").resolve()

    (gryt_dir / "pipelines" / "example.toml").write_text("# mine\n")
    again = cli("init", "app", cwd=tmp_path)
    assert again.code == 2
    assert "--force" in again.stderr and "already initialised" in again.stderr
    assert (gryt_dir / "pipelines" / "example.toml").read_text() == "# mine\n"

    forced = cli("init", "app", "--force", cwd=tmp_path)
    assert forced.code == 0, forced.stderr
    assert "[[runners]]" in (gryt_dir / "pipelines" / "example.toml").read_text()


def test_new_writes_presets_and_rejects_unknown_tokens(cli, project: Path) -> None:
    done = cli("new", "ci", "--steps", "python,go", cwd=project)
    assert done.code == 0, done.stderr
    text = (project / ".gryt" / "pipelines" / "ci.toml").read_text()
    assert 'id = "python"' in text and 'id = "go"' in text and '"go", "test", "./..."' in text

    bad = cli("new", "other", "--steps", "python,cobol", cwd=project)
    assert bad.code == 2
    assert "cobol" in bad.stderr
    for known in ("go", "python", "node", "rust", "docker"):
        assert known in bad.stderr
    assert not (project / ".gryt" / "pipelines" / "other.toml").exists()

    exists = cli("new", "ci", cwd=project)
    assert exists.code == 2 and "--force" in exists.stderr

    ambiguous = cli("new", "ci", "--format", "py", cwd=project)
    assert ambiguous.code == 2 and "ambiguous" in ambiguous.stderr

    script = cli("new", "build", "--format", "py", "--steps", "docker", cwd=project)
    assert script.code == 0, script.stderr
    source = (project / ".gryt" / "pipelines" / "build.py").read_text()
    compile(source, "build.py", "exec")
    assert "def build()" in source and '"docker", "build", "-t", "build:latest", "."' in source
    ruff = Path(sys.executable).parent / "ruff"
    formatted = subprocess.run(
        [str(ruff), "format", "--check", "--line-length", "120", "-"], input=source, text=True, check=False
    )
    assert formatted.returncode == 0, "the generated .py pipeline is not indented as ruff format would"

    fmt = cli("new", "x", "--format", "yaml", cwd=project)
    assert fmt.code == 2 and "yaml" in fmt.stderr


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env={**GIT_ENV, "PATH": "/usr/bin:/bin"},
    )
    return done.stdout.strip()


@pytest.fixture
def repo(project: Path) -> Path:
    _git(project, "init", "-q")
    write(project / "README.md", "hello\n")
    _git(project, "add", "README.md")
    _git(project, "commit", "-q", "-m", "initial")
    _git(project, "tag", "v1.2.3")
    return project


def test_version_current_and_bump_with_tag(gryt, repo: Path) -> None:
    current = gryt("version", "current", cwd=repo, env=GIT_ENV)
    assert current.code == 0, current.stderr
    assert current.stdout.strip() == "v1.2.3"

    nxt = gryt("version", "bump", "minor", cwd=repo, env=GIT_ENV)
    assert nxt.code == 0, nxt.stderr
    assert nxt.stdout.strip() == "v1.3.0"
    assert _git(repo, "tag", "--list") == "v1.2.3"

    refused = gryt("version", "bump", "patch", "--tag", cwd=repo, env=GIT_ENV)
    assert refused.code == 2 and "HEAD is already tagged v1.2.3" in refused.stderr
    write(repo / "README.md", "hello again\n")
    _git(repo, "commit", "-q", "-am", "second")
    tagged = gryt("version", "bump", "patch", "--tag", "-m", "Patch release", cwd=repo, env=GIT_ENV)
    assert tagged.code == 0, tagged.stderr
    assert tagged.stdout.strip() == "v1.2.4"
    assert "v1.2.4" in _git(repo, "tag", "--list").split()
    assert _git(repo, "tag", "-l", "--format=%(contents:subject)", "v1.2.4") == "Patch release"
    recorded = gryt("db", "--table", "versions", cwd=repo)
    assert json.loads(recorded.stdout)["versions"][0]["tag"] == "v1.2.4"

    bad = gryt("version", "bump", "minr", cwd=repo, env=GIT_ENV)
    assert bad.code == 2
    assert bad.error_lines == [bad.error_lines[0]] and 'did you mean "minor"' in bad.stderr


def test_db_and_runs_on_a_fresh_project(cli, tmp_path: Path) -> None:
    assert cli("init", cwd=tmp_path).code == 0
    dump = cli("db", cwd=tmp_path)
    assert dump.code == 0, dump.stderr
    tables = json.loads(dump.stdout)
    assert {"pipelines", "runners", "steps_output", "versions", "auth_output"} <= set(tables)
    assert tables["pipelines"] == []

    listed = cli("runs", "list", cwd=tmp_path)
    assert listed.code == 0 and "No runs yet" in listed.stdout

    missing = cli("runs", "show", "nope", cwd=tmp_path)
    assert missing.code == 2 and "nope" in missing.stderr

    table = cli("db", "--table", "pipeline", cwd=tmp_path)
    assert table.code == 2 and 'did you mean "pipelines"' in table.stderr


def test_db_without_a_database_says_so(cli, project: Path) -> None:
    done = cli("db", cwd=project)
    assert done.code == 2
    assert "gryt.db" in done.stderr and "no database" in done.stderr
    assert not (project / ".gryt" / "gryt.db").exists()


def test_history_stays_readable_when_the_config_breaks(gryt, project: Path) -> None:
    write(
        project / ".gryt" / "pipelines" / "ok.toml", '[[runners]]\nsteps = [{ id = "a", cmd = ["true"] }]\n'
    )
    run_id = json.loads(gryt("run", "ok", "--json", cwd=project).stdout)["run_id"]

    write(project / ".gryt" / "config.toml", 'dbb = "other.db"\n')
    refused = gryt("run", "ok", cwd=project)
    assert refused.code == 2 and "dbb" in refused.stderr
    shown = gryt("runs", "show", run_id, "--json", cwd=project)
    assert shown.code == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "success"
    assert (
        "warning: .gryt/config.toml: dbb: unknown key" in shown.stderr and "default settings" in shown.stderr
    )

    write(project / ".gryt" / "config.toml", 'db = "moved/gryt.db"\n')
    listed = gryt("runs", "list", "--json", cwd=project)
    assert listed.code == 0, listed.stderr
    assert [r["run_id"] for r in json.loads(listed.stdout)] == [run_id]
    assert "moved/gryt.db: no database there; reading .gryt/gryt.db" in listed.stderr
    assert not (project / "moved").exists()
