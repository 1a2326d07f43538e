"""README's install instructions are real: nothing tells users to `pip install gryt-...` from a public
index (no gryt distribution is on one), the git form installs as written, and `make dist` builds and
checks every distribution."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _distributions import DISTRIBUTIONS

REPO = Path(__file__).resolve().parents[2]
PACKAGES = DISTRIBUTIONS
INSTALL_DOCS = (
    "README.md",
    "docs/validators.md",
    "docs/auth-docker.md",
    "docs/auth-fly.md",
    *(f"{package}/README.md" for package in PACKAGES),
)
BARE_INSTALL = re.compile(r"pip install\s+(gryt-[a-z-]+)(?=[\s`]|$)", re.MULTILINE)
PIP_OFFLINE = (
    sys.executable,
    "-m",
    "pip",
    "install",
    "-q",
    "--no-index",
    "--no-deps",
    "--no-build-isolation",
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "gryt tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "gryt tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


@pytest.mark.parametrize("doc", INSTALL_DOCS)
def test_no_doc_installs_gryt_from_a_package_index(doc: str) -> None:
    text = (REPO / doc).read_text(encoding="utf-8")
    assert BARE_INSTALL.findall(text) == [], f"{doc}: `pip install <name>` finds no gryt distribution"


def test_readme_git_install_works_as_written(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    written = re.search(r'pip install "(gryt-core @ git\+<repository URL>#subdirectory=gryt-core)"', readme)
    assert written is not None, "README shows no git install of gryt-core"
    repo = tmp_path / "repo"
    shutil.copytree(
        REPO / "gryt-core", repo / "gryt-core", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    env = {**os.environ, **GIT_ENV}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "gryt-core"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    requirement = written.group(1).replace("<repository URL>", repo.as_uri())
    target = tmp_path / "site"
    done = subprocess.run(
        [*PIP_OFFLINE, "--target", str(target), requirement],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (target / "gryt" / "cli" / "__init__.py").is_file()
    assert [p.name.split("-")[0] for p in target.glob("*.dist-info")] == ["gryt_core"]


def test_make_dist_builds_and_checks_every_distribution() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", "dist"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    [loop] = [line for line in planned if "-m build" in line]
    assert "--no-isolation" in loop and "--outdir dist" in loop
    for package in PACKAGES:
        assert package in loop
    assert planned.index(loop) < len(planned) - 1
    assert planned[-1].endswith("twine check --strict dist/*")
    assert "make dist" in (REPO / "README.md").read_text(encoding="utf-8")
    assert "\nmake dist\n" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_every_distribution_of_the_repository_is_in_the_makefile() -> None:
    """A new `gryt-*` project is installed, tested, linted and built only once the Makefile lists it."""
    projects = {path.parent.name for path in REPO.glob("gryt-*/pyproject.toml")}
    assert projects == set(PACKAGES)
