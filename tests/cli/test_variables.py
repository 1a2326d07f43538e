"""`${{ }}` variables end to end through the real `gryt`: contexts read from a real git repository,
injection safety (a hostile value never runs), escapes, validate-time errors, and secrets read through a
template masked in every sink."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import pipeline

GIT_ENV = {
    "GIT_AUTHOR_NAME": "T",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "T",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        env={**GIT_ENV, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


CONTEXTS = """\
[[runners]]
id = "show"
steps = [
  { id = "facts", cmd = ["printf", "%s|", "${{ git.sha }}", "${{ git.short_sha }}", "${{ git.branch }}",
    "${{ git.tag }}", "${{ version }}", "${{ run.id }}", "${{ pipeline.name }}", "${{ env.GREETING }}",
    "${{ env.UNSET_VAR || 'fallback' }}", "$${{ literal }}", "$HOME ${HOME}"] },
]
"""


def test_contexts_from_a_git_repository(gryt, project: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "commit", "-q", "--allow-empty", "-m", "one")
    git(project, "tag", "v1.4.0")
    sha = git(project, "rev-parse", "HEAD")
    pipeline(project, "rel.toml", CONTEXTS)
    done = gryt("run", "rel", "--json", cwd=project, env={"GREETING": "hi there"})
    assert done.code == 0, done.stderr
    result = json.loads(done.stdout)
    fields = result["runners"]["show"]["facts"]["stdout"].split("|")
    assert fields[:-1] == [
        sha,
        sha[:7],
        "main",
        "v1.4.0",
        "1.4.0",
        result["run_id"],
        "rel",
        "hi there",
        "fallback",
        "${{ literal }}",
        "$HOME ${HOME}",
    ]


def test_outside_a_repository(gryt, project: Path) -> None:
    """git facts are empty; `version` cannot be read: one line, exit 2, before anything runs."""
    env = {"GREETING": "x", "GIT_CEILING_DIRECTORIES": str(project.parent)}
    pipeline(project, "rel.toml", CONTEXTS.replace('"${{ version }}", ', ""))
    done = gryt("run", "rel", "--json", cwd=project, env=env)
    assert done.code == 0, done.stderr
    fields = json.loads(done.stdout)["runners"]["show"]["facts"]["stdout"].split("|")
    assert fields[:4] == ["", "", "", ""]
    pipeline(project, "rel.toml", CONTEXTS)
    done = gryt("run", "rel", cwd=project, env=env)
    assert done.code == 2
    assert len(done.error_lines) == 1
    assert "step show/facts.cmd[6]: version: cannot read the current version" in done.stderr
    assert done.stdout == ""  # nothing ran


HOSTILE = [
    'it\'s "quoted"',
    "a; touch pwned-semicolon",
    "$(touch pwned-subshell)",
    "`touch pwned-backtick`",
    "line\ntouch pwned-newline",
    "x' ; touch pwned-quote; echo '",
    "&& touch pwned-and",
]

INJECTION = """\
[[runners]]
id = "inject"
steps = [
  { id = "argv", cmd = ["printf", "[%s]", "${{ env.HOSTILE }}", "pre-${{ env.HOSTILE }}-post"] },
  { id = "shell", cmd = "printf '[%s]' ${{ env.HOSTILE }} pre-${{ env.HOSTILE }}-post", shell = true },
  { id = "env", cmd = ["sh", "-c", "printf '[%s]' \\"$VALUE\\""], env = { VALUE = "${{ env.HOSTILE }}" } },
]
"""


@pytest.mark.parametrize("hostile", HOSTILE)
def test_interpolated_values_never_execute(gryt, project: Path, hostile: str) -> None:
    pipeline(project, "inject.toml", INJECTION)
    done = gryt("run", "inject", "--json", cwd=project, env={"HOSTILE": hostile})
    assert done.code == 0, done.stderr
    steps = json.loads(done.stdout)["runners"]["inject"]
    assert steps["argv"]["stdout"] == f"[{hostile}][pre-{hostile}-post]"
    assert steps["shell"]["stdout"] == f"[{hostile}][pre-{hostile}-post]"
    assert steps["env"]["stdout"] == f"[{hostile}]"
    assert not list(project.glob("pwned*"))


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "${{ gti.sha }}",
            'unknown variable gti.sha (did you mean "git.sha"?) at column 5 in "${{ gti.sha }}"',
        ),
        (
            "${{ env.PYPI_TOKN }}",
            'environment variable PYPI_TOKN is not set (did you mean "env.PYPI_TOKEN"?)',
        ),
        ("${{ git.tag == ) }}", "unexpected ')' at column 16"),
        ("${{ matrix.python }}", "unknown variable matrix.python; matrix keys: none"),
        ("${{ succes() }}", 'unknown function succes() (did you mean "success"?)'),
        ("${{ env.X", "'${{' without a closing '}}' at column 1"),
    ],
)
def test_bad_templates_fail_validate(gryt, project: Path, template: str, message: str) -> None:
    pipeline(
        project, "ci.toml", f'[[runners]]\nid = "r"\nsteps = [{{ id = "a", cmd = ["echo", "{template}"] }}]\n'
    )
    for command in ("validate", "run"):
        done = gryt(command, "ci", cwd=project, env={"PYPI_TOKEN": "x"})
        assert done.code == 2, done.stdout
        assert done.error_lines == [
            f"gryt: error: .gryt/pipelines/ci.toml: step r/a.cmd[1]: {message}"
            + done.error_lines[0].split(message, 1)[1]
        ]
        assert "Traceback" not in done.stderr


SECRET = "pypi-AgEIcHlwaS5vcmc-secret-token"

RELEASE = """\
[pipeline]
secrets = ["PYPI_TOKEN"]

[[runners]]
id = "upload"
steps = [
  { id = "env", cmd = ["sh", "-c", "echo password=$TWINE_PASSWORD; exit 1"], env = { TWINE_PASSWORD = "${{ env.PYPI_TOKEN }}" }, allow_failure = true },
  { id = "argv", cmd = ["echo", "token:${{ env.PYPI_TOKEN }}"] },
  { id = "derived", cmd = ["sh", "-c", "echo $MAPPED >&2"], env = { MAPPED = "${{ env.OTHER_SOURCE }}" } },
]
"""


def test_secrets_read_through_templates_are_masked_everywhere(gryt, project: Path) -> None:
    # MAPPED is a secret because of its name; its value comes from a variable gryt does not know as one
    text = RELEASE.replace('secrets = ["PYPI_TOKEN"]', 'secrets = ["PYPI_TOKEN", "MAPPED"]')
    pipeline(project, "release.toml", text)
    env = {"PYPI_TOKEN": SECRET, "OTHER_SOURCE": SECRET[::-1]}
    json_run = gryt("run", "release", "--json", "--junit", "junit.xml", cwd=project, env=env)
    plain_run = gryt("run", "release", cwd=project, env=env)
    assert json_run.code == 0 and plain_run.code == 0, json_run.stderr
    steps = json.loads(json_run.stdout)["runners"]["upload"]
    assert steps["env"]["stdout"] == "password=***\n"
    assert steps["argv"]["stdout"] == "token:***\n"
    assert steps["derived"]["stderr"] == "***\n"
    shown = gryt("runs", "show", "last", "--json", cwd=project)
    sinks = {
        "stdout": json_run.stdout + plain_run.stdout + shown.stdout,
        "stderr": json_run.stderr + plain_run.stderr,
        "junit": (project / "junit.xml").read_text(),
    }
    for path in (project / ".gryt").rglob("*"):
        if path.is_file():
            sinks[str(path)] = path.read_bytes().decode("utf-8", "replace")
    assert any("logs" in name for name in sinks)
    for name, text in sinks.items():
        for secret in (SECRET, SECRET[::-1]):
            assert secret not in text, name


def test_python_form_renders_templates(tmp_path: Path) -> None:
    from gryt import CommandStep, Pipeline, Runner

    step = CommandStep("say", {"cmd": ["echo", "${{ pipeline.name }}/${{ run.id }}"]})
    pipe = Pipeline([Runner([step], id="r")], name="py")
    result = pipe.execute()
    assert result["runners"]["r"]["say"]["stdout"] == f"py/{result['run_id']}\n"
    assert step.config["cmd"] == ["echo", "${{ pipeline.name }}/${{ run.id }}"]  # the template is kept


def test_auth_config_and_step_cwd_are_rendered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typing import Any

    from gryt import CommandStep, Pipeline, Runner
    from gryt.auth import Auth

    seen: list[str] = []

    class Login(Auth):
        name = "login"

        def authenticate(self) -> dict[str, Any]:
            seen.append(self.config["user"])
            return {"status": "success"}

    monkeypatch.setenv("LOGIN_USER", "robot; $(touch pwned)")
    monkeypatch.setenv("WORK", str(tmp_path))
    (tmp_path / "sub").mkdir()
    login = Login("login", {"user": "${{ env.LOGIN_USER }}"})
    step = CommandStep("where", {"cmd": ["pwd"], "cwd": "${{ env.WORK }}/sub"})
    result = Pipeline([Runner([step], id="r")], auth_steps=[login]).execute()
    assert result["status"] == "success", result.get("error")
    assert seen == ["robot; $(touch pwned)"]
    assert result["runners"]["r"]["where"]["stdout"] == f"{tmp_path / 'sub'}\n"
    assert login.config["user"] == "${{ env.LOGIN_USER }}"  # the template is kept for the next run
    assert not list(tmp_path.rglob("pwned"))


BUILT_FROM_VALUES = """\
[[runners]]
id = "build"
steps = [{ id = "dist", cmd = ["sh", "-c", "mkdir -p dist && echo w > dist/app.whl"] }]

[[destinations]]
id = "shelf"
type = "directory"
path = "${{ env.SHELF || 'published' }}/${{ run.id }}"

[artifacts]
paths = ["dist/*"]
"""


def test_a_destination_is_built_from_each_runs_values(gryt, project: Path) -> None:
    pipeline(project, "shelf.toml", BUILT_FROM_VALUES)
    runs = [json.loads(gryt("run", "shelf", "--json", cwd=project).stdout) for _ in range(2)]
    for run in runs:
        (item,) = run["destinations"]["shelf"]
        assert item["path"] == f"published/{run['run_id']}/app.whl"
        assert (project / item["path"]).read_text() == "w\n"
    assert not (project / "published" / "<run.id>").exists()
    shown = json.loads(gryt("runs", "show", runs[0]["run_id"], "--json", cwd=project).stdout)
    assert shown["destination_runs"][0]["details"]["path"] == f"published/{runs[0]['run_id']}/app.whl"


def test_a_rendered_value_its_type_refuses_is_one_line(gryt, project: Path) -> None:
    pytest.importorskip("gryt_npm")
    pipeline(
        project,
        "npm.toml",
        '[[runners]]\nid = "b"\nsteps = [{ id = "x", cmd = ["true"] }]\n\n'
        '[[destinations]]\ntype = "npm"\nregistry = "${{ env.NPM_REGISTRY }}"\n',
    )
    good = gryt("validate", "npm", cwd=project, env={"NPM_REGISTRY": "http://127.0.0.1:4873/"})
    assert good.code == 0, good.stderr
    bad = gryt("validate", "npm", cwd=project, env={"NPM_REGISTRY": "127.0.0.1:4873"})
    assert bad.code == 2
    assert bad.stderr.count("\n") == 1 and "destinations[0].registry" in bad.stderr, bad.stderr
