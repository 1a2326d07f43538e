"""`gryt ci gitlab`: the file validates against GitLab's schema (check-jsonschema's vendored copy,
offline), its job graph is the pipeline's runner graph, regenerating is byte-stable, `--check` works."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from _gryt import run_gryt
from cli.conftest import pipeline

CHECK_JSONSCHEMA = str(Path(sys.executable).parent / "check-jsonschema")
SPECIAL = ("variables", "default", "gryt-deliver")


def test_generated_file_is_valid_gitlab_ci_and_mirrors_the_plan(ci_project: Path) -> None:
    done = run_gryt("ci", "gitlab", "ci", cwd=ci_project)
    assert done.code == 0, done.stderr
    assert done.stdout == "wrote .gitlab-ci.yml: 4 runner job(s) and a final merge/deliver job\n"
    path = ci_project / ".gitlab-ci.yml"
    checked = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.gitlab-ci", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    plan = json.loads(run_gryt("plan", "ci", "--json", cwd=ci_project).stdout)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    runner_of: dict[str, str] = {}
    for job, spec in document.items():
        if job in SPECIAL:
            continue
        [command] = spec["script"]
        words = shlex.split(command)
        assert words[:3] == ["gryt", "run", ".gryt/pipelines/ci.toml"]
        assert "--no-deliver" in words
        runner_of[job] = words[words.index("--runner") + 1]
        assert spec["artifacts"] == {"when": "always", "paths": [".gryt-ci/", "dist/*"]}
    graph = {
        runner_of[job]: [runner_of[need] for need in spec.get("needs", [])]
        for job, spec in document.items()
        if job not in SPECIAL
    }
    assert graph == {r["id"]: r["needs"] for r in plan["runners"]}
    final = document["gryt-deliver"]
    assert sorted(final["needs"]) == sorted(runner_of)
    assert final["when"] == "always"
    assert final["artifacts"]["reports"] == {"junit": ".gryt-ci/junit.xml"}
    assert document["variables"]["GRYT_RUN_ID"] == "gitlab-$CI_PIPELINE_ID"
    install = document["default"]["before_script"][0]
    assert install.startswith("python -m pip install gryt-core==")
    assert "gryt-gitlab==" in install


def test_regenerating_is_stable_and_check_finds_a_stale_file(ci_project: Path) -> None:
    path = ci_project / ".gitlab-ci.yml"
    missing = run_gryt("ci", "gitlab", "ci", "--check", cwd=ci_project)
    assert (missing.code, missing.stderr) == (
        1,
        "gryt: .gitlab-ci.yml is missing: run `gryt ci gitlab` and commit it\n",
    )
    assert run_gryt("ci", "gitlab", cwd=ci_project).code == 0  # the only pipeline: no argument needed
    first = path.read_bytes()
    assert run_gryt("ci", "gitlab", "ci", cwd=ci_project).code == 0
    assert path.read_bytes() == first
    assert run_gryt("ci", "gitlab", "ci", "--check", cwd=ci_project).code == 0
    pipeline_file = ci_project / ".gryt" / "pipelines" / "ci.toml"
    pipeline_file.write_text(
        pipeline_file.read_text() + '\n[[runners]]\nid = "docs"\nsteps = [{ id = "html", cmd = ["true"] }]\n'
    )
    stale = run_gryt("ci", "gitlab", "ci", "--check", cwd=ci_project)
    assert stale.code == 1
    assert "out of date" in stale.stderr
    assert path.read_bytes() == first


def test_bad_pipeline_is_one_line_and_exit_2(ci_project: Path) -> None:
    done = run_gryt("ci", "gitlab", "nope", cwd=ci_project)
    assert done.code == 2
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("gryt: error:")
    assert not (ci_project / ".gitlab-ci.yml").exists()


def test_ci_namespace_lists_gitlab(ci_project: Path) -> None:
    done = run_gryt("ci", "--help", cwd=ci_project)
    assert done.code == 0
    assert "gitlab" in done.stdout and "gryt-gitlab" in done.stdout
    unknown = run_gryt("ci", "nothing", cwd=ci_project)
    assert unknown.code == 2


def test_every_distribution_is_pinned_when_the_pipeline_uses_no_core_type(tmp_path: Path) -> None:
    """gryt-core is pinned to the version installed here even when no type of the pipeline comes from it
    (only gryt-python's `python` step), as `gryt ci github` pins it."""
    root = tmp_path / "project"
    (root / ".gryt").mkdir(parents=True)
    (root / ".gryt" / "config.toml").write_text("", encoding="utf-8")
    pipeline(
        root,
        "py.toml",
        '[[runners]]\nid = "t"\nsteps = [{ id = "v", type = "python", cmd = ["python", "-V"] }]\n',
    )
    done = run_gryt("ci", "gitlab", cwd=root)
    assert done.code == 0, done.stderr
    install = yaml.safe_load((root / ".gitlab-ci.yml").read_text(encoding="utf-8"))["default"][
        "before_script"
    ][0]
    names = shlex.split(install)[4:]
    assert sorted(n.split("==")[0] for n in names) == ["gryt-core", "gryt-gitlab", "gryt-python"]
    assert all("==" in n for n in names), install
