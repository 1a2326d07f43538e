"""Every broken pipeline or config in tests/bad_inputs/ gives exit 2, one clear line, no traceback, and
leaves the earlier runs of the project readable."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

CORPUS = Path(__file__).parent.parent / "bad_inputs"
GRYT = str(Path(sys.executable).parent / "gryt")
GOOD = '[pipeline]\nname = "good"\n\n[[runners]]\nid = "main"\nsteps = [{ id = "hello", cmd = ["echo", "hello"] }]\n'


def gryt(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(project), "NO_COLOR": "1", "LANG": "C.UTF-8"}
    return subprocess.run(
        [GRYT, *args], cwd=project, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A project with one recorded successful run, made once and copied for each case."""
    project = tmp_path_factory.mktemp("template")
    (project / ".gryt" / "pipelines").mkdir(parents=True)
    (project / ".gryt" / "pipelines" / "good.toml").write_text(GOOD)
    done = gryt(project, "run", "good", "--json")
    assert done.returncode == 0, done.stderr
    return project, json.loads(done.stdout)["run_id"]


def cases() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.suffix in {".toml", ".py"} or (p / "case.toml").exists())


def test_corpus_is_large_enough() -> None:
    assert len(cases()) >= 30


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_bad_input(case: Path, template: tuple[Path, str], tmp_path: Path) -> None:
    source, run_id = template
    project = tmp_path / "project"
    shutil.copytree(source, project)
    if case.is_dir():
        spec = tomllib.loads((case / "case.toml").read_text())
        args, expect = spec["args"], spec["expect"]
        if (case / "project").is_dir():
            shutil.copytree(case / "project", project, dirs_exist_ok=True)
    else:
        first = case.read_text().splitlines()[0]
        assert first.startswith("# expect:"), f"{case.name} must start with '# expect: ...'"
        expect = [case.name, *(part.strip() for part in first.removeprefix("# expect:").split("|"))]
        shutil.copy(case, project / ".gryt" / "pipelines" / case.name)
        args = ["run", case.stem]

    done = gryt(project, *args)

    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    assert "Traceback" not in done.stderr + done.stdout
    assert len(lines) == 1, f"expected one line on stderr, got:\n{done.stderr}"
    for fragment in expect:
        assert fragment.lower() in lines[0].lower(), f"{fragment!r} not in {lines[0]!r}"

    shown = gryt(project, "runs", "show", run_id, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "success"
