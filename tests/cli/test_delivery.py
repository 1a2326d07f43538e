"""Delivery through `gryt run`: artifacts are what the run built (resolved after the runners, from a fresh
checkout), each destination's outcome is shown, logged, recorded and reported, and bad input fails clearly."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import pipeline, write

BUILD = """\
import pathlib, shutil, sys
version = pathlib.Path("VERSION").read_text().strip()
shutil.rmtree("dist", ignore_errors=True)
dist = pathlib.Path("dist")
dist.mkdir()
(dist / f"app-{version}-py3-none-any.whl").write_text(f"wheel {version}")
(dist / f"app-{version}.tar.gz").write_text(f"sdist {version}")
"""

RECORD = """\
import json, sys
with open(sys.argv[1], "a") as fh:
    fh.write(json.dumps(sys.argv[2:]) + "\\n")
"""

RELEASE = f"""\
[pipeline]
name = "release"

[[runners]]
id = "build"
steps = [{{ id = "dist", cmd = ["{sys.executable}", "build.py"] }}]

[[destinations]]
id = "shelf"
type = "directory"
path = "published"

[artifacts]
paths = ["dist/*"]
"""


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A fresh clone of a project whose release pipeline builds dist/ with build.py (no dist/ committed)."""
    origin = tmp_path / "origin"
    write(origin / "VERSION", "1.0\n")
    write(origin / "build.py", BUILD)
    write(origin / ".gitignore", "dist/\npublished/\n.gryt/gryt.db\n.gryt/logs/\n")
    pipeline(origin, "release.toml", RELEASE)
    git("init", "-q", cwd=origin)
    git("add", ".", cwd=origin)
    git("commit", "-q", "-m", "release pipeline", cwd=origin)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert not (clone / "dist").exists()
    return clone


def database_text(path: Path) -> str:
    """Every value of every table of a SQLite file, as one string."""
    db = sqlite3.connect(path)
    try:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(repr(row) for table in tables for row in db.execute(f'SELECT * FROM "{table}"'))
    finally:
        db.close()


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_fresh_checkout_delivers_what_the_build_created(gryt, checkout: Path) -> None:
    done = gryt("run", "release", cwd=checkout)
    assert done.code == 0, done.stdout + done.stderr
    assert files(checkout / "published") == ["app-1.0-py3-none-any.whl", "app-1.0.tar.gz"]
    assert (checkout / "published" / "app-1.0.tar.gz").read_text() == "sdist 1.0"
    lines = done.stdout.splitlines()
    assert "deliver/shelf started" in lines
    assert any(line.startswith("deliver/shelf success 2 artifacts ") for line in lines)
    assert lines.index("deliver/shelf started") > lines.index("build/dist started")


def test_the_summary_runs_show_and_junit_say_where_each_artifact_went(
    gryt, checkout: Path, tmp_path: Path
) -> None:
    report = tmp_path / "junit.xml"
    done = gryt("run", "release", "--junit", str(report), cwd=checkout)
    assert done.code == 0, done.stdout + done.stderr
    went = [
        "deliver/shelf dist/app-1.0-py3-none-any.whl -> published/app-1.0-py3-none-any.whl",
        "deliver/shelf dist/app-1.0.tar.gz -> published/app-1.0.tar.gz",
    ]
    lines = done.stdout.splitlines()
    assert [line for line in lines if " -> " in line] == went
    case = ET.parse(report).getroot().find("testsuite[@name='deliver']/testcase[@name='shelf']")
    assert case is not None
    assert case.findtext("system-out") == "\n".join(line.removeprefix("deliver/shelf ") for line in went)
    run_id = lines[-1].split()[1]
    shown = gryt("runs", "show", run_id, cwd=checkout).stdout
    row = next(line for line in shown.splitlines() if "app-1.0.tar.gz" in line)
    assert row.split()[:4] == ["shelf", "directory", "dist/app-1.0.tar.gz", "success"]
    assert [line for line in shown.splitlines() if " -> " in line] == went


def test_a_rebuild_delivers_only_the_new_files(gryt, checkout: Path) -> None:
    first = gryt("run", "release", "--json", cwd=checkout)
    assert first.code == 0, first.stderr
    write(checkout / "VERSION", "1.1\n")
    second = gryt("run", "release", "--json", cwd=checkout)
    assert second.code == 0, second.stderr
    outcome = json.loads(second.stdout)["delivery"]["shelf"]
    assert outcome["status"] == "success"
    assert outcome["artifacts"] == ["dist/app-1.1-py3-none-any.whl", "dist/app-1.1.tar.gz"]
    assert files(checkout / "dist") == ["app-1.1-py3-none-any.whl", "app-1.1.tar.gz"]


def test_a_python_pipeline_declares_artifacts(gryt, checkout: Path) -> None:
    write(
        checkout / ".gryt" / "pipelines" / "pyrelease.py",
        f"""\
from gryt import CommandStep, DirectoryDestination, Pipeline, Runner


def build():
    step = CommandStep("dist", {{"cmd": [{sys.executable!r}, "build.py"]}})
    return Pipeline(
        [Runner([step], id="build")],
        destinations=[DirectoryDestination("wheels", {{"path": "wheelhouse"}})],
        artifacts=["dist/*.whl", {{"path": "docs/site", "optional": True}}],
    )
""",
    )
    done = gryt("run", "pyrelease", cwd=checkout)
    assert done.code == 0, done.stdout + done.stderr
    assert files(checkout / "wheelhouse") == ["app-1.0-py3-none-any.whl"]


TWO_RUNNERS = f"""\
[[runners]]
id = "build"
steps = [{{ id = "dist", cmd = ["{sys.executable}", "build.py"] }}]

[[runners]]
id = "test"
needs = ["build"]
steps = [{{ id = "check", cmd = ["true"] }}]

[[destinations]]
id = "shelf"
type = "directory"
path = "published"

[artifacts]
paths = ["dist/*"]
"""


def test_runner_selection_does_not_deliver_unless_asked(gryt, checkout: Path) -> None:
    pipeline(checkout, "two.toml", TWO_RUNNERS)
    only = gryt("run", "two", "--runner", "build", cwd=checkout)
    assert only.code == 0, only.stderr
    assert (checkout / "dist").is_dir() and not (checkout / "published").exists()
    assert "deliver/shelf skipped - only the selected runners ran; --deliver delivers anyway" in only.stdout

    alone = gryt("run", "two", "-r", "test", cwd=checkout)
    assert alone.code == 0
    assert alone.error_lines == [
        "gryt: not running 'build' (needed by 'test'): outside the --runner selection"
    ]

    delivered = gryt("run", "two", "-r", "build", "--deliver", cwd=checkout)
    assert delivered.code == 0, delivered.stderr
    assert files(checkout / "published") == ["app-1.0-py3-none-any.whl", "app-1.0.tar.gz"]
    assert delivered.error_lines == []


def test_no_deliver_runs_everything_and_publishes_nothing(gryt, checkout: Path) -> None:
    done = gryt("run", "release", "--no-deliver", "--json", cwd=checkout)
    assert done.code == 0
    result = json.loads(done.stdout)
    assert result["runners"]["build"]["dist"]["status"] == "success"
    assert result["delivery"]["shelf"]["status"] == "skipped"
    assert result["delivery"]["shelf"]["error"] == "delivery turned off (--no-deliver)"
    assert not (checkout / "published").exists()


def test_a_glob_matching_nothing_fails_the_delivery(gryt, checkout: Path) -> None:
    pipeline(checkout, "release.toml", RELEASE.replace('paths = ["dist/*"]', 'paths = ["dist/*.exe"]'))
    done = gryt("run", "release", cwd=checkout)
    assert done.code == 1
    assert "deliver/shelf error 0 artifacts" in done.stdout
    assert f"artifact pattern 'dist/*.exe' matched nothing in {checkout.resolve()}" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("run ") and " error in " in done.stdout.splitlines()[-1]
    assert not (checkout / "published").exists()
    assert "Traceback" not in done.stdout + done.stderr


def test_an_optional_glob_may_match_nothing(gryt, checkout: Path) -> None:
    optional = 'paths = ["dist/*.whl", { path = "docs/site", optional = true }]'
    pipeline(checkout, "release.toml", RELEASE.replace('paths = ["dist/*"]', optional))
    done = gryt("run", "release", cwd=checkout)
    assert done.code == 0, done.stdout
    assert files(checkout / "published") == ["app-1.0-py3-none-any.whl"]


def test_a_folder_is_an_artifact(gryt, checkout: Path) -> None:
    script = "import pathlib; p = pathlib.Path('site/api'); p.mkdir(parents=True); (p / 'index.html').write_text('api'); pathlib.Path('site/index.html').write_text('home')"
    pipeline(
        checkout,
        "docs.toml",
        f'[[runners]]\nsteps = [{{ id = "site", cmd = ["{sys.executable}", "-c", "{script}"] }}]\n\n'
        '[[destinations]]\ntype = "directory"\npath = "public"\n\n[artifacts]\npaths = ["site"]\n',
    )
    done = gryt("run", "docs", cwd=checkout)
    assert done.code == 0, done.stdout
    assert files(checkout / "public") == ["site/api/index.html", "site/index.html"]


def test_two_artifacts_with_one_name_fail_before_anything_is_copied(gryt, checkout: Path) -> None:
    pipeline(
        checkout,
        "dup.toml",
        '[[runners]]\nsteps = [{ id = "make", cmd = ["sh", "-c", "mkdir -p a b && echo 1 > a/x.txt && echo 2 > b/x.txt"] }]\n\n'
        '[[destinations]]\ntype = "directory"\npath = "out"\n\n[artifacts]\npaths = ["a/*.txt", "b/*.txt"]\n',
    )
    done = gryt("run", "dup", cwd=checkout)
    assert done.code == 1
    assert "duplicate file name: a/x.txt and b/x.txt would both be copied to out/x.txt" in done.stdout
    assert not (checkout / "out").exists()


def test_batch_command_runs_once_with_every_artifact(gryt, checkout: Path) -> None:
    write(checkout / "record.py", RECORD)
    py = sys.executable
    text = RELEASE + (
        f'\n[[destinations]]\nid = "twine"\ntype = "command"\n'
        f'cmd = ["{py}", "record.py", "calls.jsonl", "upload", "{{artifacts}}"]\n'
        f'\n[[destinations]]\nid = "shell"\ntype = "command"\nshell = true\n'
        f'cmd = "{py} record.py shell.jsonl {{artifacts}}"\n'
        f'\n[[destinations]]\nid = "each"\ntype = "command"\n'
        f'cmd = ["{py}", "record.py", "each.jsonl", "{{artifact}}"]\n'
    )
    pipeline(checkout, "release.toml", text)
    done = gryt("run", "release", cwd=checkout)
    assert done.code == 0, done.stdout
    built = ["dist/app-1.0-py3-none-any.whl", "dist/app-1.0.tar.gz"]
    calls = (checkout / "calls.jsonl").read_text().splitlines()
    assert [json.loads(c) for c in calls] == [["upload", *built]]
    assert [json.loads(c) for c in (checkout / "shell.jsonl").read_text().splitlines()] == [built]
    assert [json.loads(c) for c in (checkout / "each.jsonl").read_text().splitlines()] == [[a] for a in built]


def test_both_placeholders_are_a_config_error(gryt, checkout: Path) -> None:
    bad = RELEASE + '\n[[destinations]]\ntype = "command"\ncmd = ["echo", "{artifact}", "{artifacts}"]\n'
    pipeline(checkout, "release.toml", bad)
    done = gryt("run", "release", cwd=checkout)
    assert done.code == 2
    assert len(done.error_lines) == 1
    assert "destinations[1].cmd: must contain exactly one of the placeholders" in done.stderr


def test_each_destination_selects_its_artifacts(gryt, checkout: Path) -> None:
    text = RELEASE.replace('path = "published"', 'path = "wheels"\nartifacts = ["dist/*.whl"]') + (
        '\n[[destinations]]\nid = "sdists"\ntype = "directory"\npath = "sdists"\nartifacts = ["dist/*.tar.gz"]\n'
        '\n[[destinations]]\nid = "docs"\ntype = "directory"\npath = "docs"\n'
        'artifacts = [{ path = "site", optional = true }]\n'
    )
    pipeline(checkout, "release.toml", text)
    done = gryt("run", "release", "--json", cwd=checkout)
    assert done.code == 0, done.stdout
    assert files(checkout / "wheels") == ["app-1.0-py3-none-any.whl"]
    assert files(checkout / "sdists") == ["app-1.0.tar.gz"]
    assert json.loads(done.stdout)["delivery"]["docs"]["status"] == "skipped"

    strict = text.replace('artifacts = [{ path = "site", optional = true }]', 'artifacts = ["site"]')
    pipeline(checkout, "release.toml", strict)
    failed = gryt("run", "release", cwd=checkout)
    assert failed.code == 1
    assert "deliver/docs failed: artifacts: 'site' selects none of the run's artifacts" in failed.stdout


SECRET = "tok-9f8e7d6c5b4a"

FAILING = (
    RELEASE
    + """
[[destinations]]
id = "upload"
type = "command"
cmd = ["sh", "-c", "echo uploading $@ >&2; echo \\"HTTP 403: token $UPLOAD_TOKEN rejected\\" >&2; exit 3", "sh", "{artifacts}"]
"""
)


def test_a_failing_destination_is_shown_logged_recorded_and_reported(
    gryt, checkout: Path, tmp_path: Path
) -> None:
    pipeline(
        checkout,
        "release.toml",
        FAILING.replace('name = "release"', 'name = "release"\nsecrets = ["UPLOAD_TOKEN"]'),
    )
    report = tmp_path / "junit.xml"
    env = {"UPLOAD_TOKEN": SECRET}
    done = gryt("run", "release", "--junit", str(report), cwd=checkout, env=env)
    assert done.code == 1
    out = done.stdout
    assert "deliver/shelf success 2 artifacts" in out
    assert (
        "--- deliver/upload stderr (last 20 lines) ---\n"
        "uploading dist/app-1.0-py3-none-any.whl dist/app-1.0.tar.gz\n"
        "HTTP 403: token *** rejected\n"
    ) in out
    assert "deliver/upload failed: exit code 3" in out
    log_line = next(line for line in out.splitlines() if line.startswith("deliver/upload full log: "))
    log = (checkout / log_line.removeprefix("deliver/upload full log: ")).resolve()
    assert log.parent.parent == checkout.resolve() / ".gryt" / "logs"
    assert log.name == "destination+upload.log"
    assert "HTTP 403: token *** rejected" in log.read_text()
    run_id = log.parent.name

    suites = {s.get("name"): s for s in ET.parse(report).getroot()}
    deliver = suites["deliver"]
    assert deliver.get("tests") == "2" and deliver.get("failures") == "1"
    upload = next(c for c in deliver if c.get("name") == "upload")
    failure = upload.find("failure")
    assert failure is not None and failure.get("message") == "exit code 3"
    assert "token *** rejected" in (upload.findtext("system-err") or "")

    shown = gryt("runs", "show", run_id, cwd=checkout)
    assert shown.code == 0
    assert "deliver" in shown.stdout and "exit code 3" in shown.stdout
    assert f"log upload: {log}" in shown.stdout
    as_json = json.loads(gryt("runs", "show", run_id, "--json", cwd=checkout).stdout)
    rows = [(r["destination_id"], r["artifact"], r["status"]) for r in as_json["destination_runs"]]
    assert rows == [
        ("shelf", "dist/app-1.0-py3-none-any.whl", "success"),
        ("shelf", "dist/app-1.0.tar.gz", "success"),
        ("upload", "dist/app-1.0-py3-none-any.whl", "error"),
        ("upload", "dist/app-1.0.tar.gz", "error"),
    ]

    db = sqlite3.connect(checkout / ".gryt" / "gryt.db")
    stored = db.execute(
        "SELECT destination_id, name, status, error, log_path, details_json FROM destination_runs"
        " WHERE pipeline_id = ? AND destination_id = 'upload'",
        (run_id,),
    ).fetchall()
    db.close()
    assert {(r[0], r[1], r[2], r[3], r[4]) for r in stored} == {
        ("upload", "command", "error", "exit code 3", str(log))
    }
    assert "token *** rejected" in stored[0][5]

    as_run_json = gryt("run", "release", "--json", cwd=checkout, env=env)
    assert as_run_json.code == 1
    upload_items = json.loads(as_run_json.stdout)["destinations"]["upload"]
    assert upload_items[0]["stderr"].endswith("HTTP 403: token *** rejected\n")
    dumped = gryt("runs", "show", run_id, "--json", cwd=checkout).stdout
    for text in (
        out,
        done.stderr,
        log.read_text(),
        report.read_text(),
        dumped,
        as_run_json.stdout,
        database_text(checkout / ".gryt" / "gryt.db"),
    ):
        assert SECRET not in text


def test_a_failed_runner_skips_delivery_and_says_why(gryt, checkout: Path, tmp_path: Path) -> None:
    pipeline(checkout, "release.toml", RELEASE.replace('"build.py"', '"missing.py"'))
    report = tmp_path / "junit.xml"
    done = gryt("run", "release", "--junit", str(report), cwd=checkout)
    assert done.code == 1
    reason = "not delivered: runner 'build' ended with error"
    assert f"deliver/shelf skipped - {reason}" in done.stdout
    skipped = ET.parse(report).getroot().find("testsuite[@name='deliver']/testcase/skipped")
    assert skipped is not None and skipped.get("message") == reason
    run_id = done.stdout.split()[1]
    shown = gryt("runs", "show", run_id, "--json", cwd=checkout)
    row = json.loads(shown.stdout)["destination_runs"][0]
    assert (row["destination_id"], row["status"], row["error"]) == ("shelf", "skipped", reason)


def test_auth_failures_and_issues_are_failing_junit_cases(gryt, checkout: Path, tmp_path: Path) -> None:
    pipeline(
        checkout,
        "env.toml",
        '[[validators]]\ntype = "env-vars"\nrequired = ["GRYT_DELIVERY_UNSET_VAR"]\n\n'
        '[[runners]]\nsteps = [{ id = "a", cmd = ["true"] }]\n',
    )
    report = tmp_path / "env.xml"
    done = gryt("run", "env", "--junit", str(report), cwd=checkout)
    assert done.code == 1
    suite = ET.parse(report).getroot().find("testsuite[@name='environment']")
    assert suite is not None and suite.get("failures") == "1"
    failure = suite.find("testcase/failure")
    assert failure is not None and "GRYT_DELIVERY_UNSET_VAR" in (failure.get("message") or "")
