"""The parts of gryt-python on their own: interpreter discovery on this machine's real Pythons, credentials
in install arguments, reading a real pytest JUnit report, and core's `tests` convention (summary, JUnit)."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from _imports import loaded

from gryt.cli.progress import Failures, render_plain_summary
from gryt.errors import ConfigError
from gryt.junit import build_junit
from gryt.testcounts import counts_suffix, describe, failing_lines, tally_of
from gryt.testing import assert_valid_plugin
from gryt_python import credentials, plugin
from gryt_python.interpreters import find_interpreter
from gryt_python.junit_report import ReportError, read_report

from .conftest import VERSIONS, interpreter, write_project


def test_plugin_is_valid() -> None:
    assert_valid_plugin(plugin)


def test_registering_the_step_types_loads_nothing_heavy() -> None:
    """Every `gryt run` registers the plugin's step types: OpenSSL (hashlib), `random` (tempfile) and the
    XML parser are loaded only by the steps that use them."""
    code = "from gryt_python.plugin import gryt_register_steps; gryt_register_steps(lambda cls: None)"
    assert loaded(code, ["hashlib", "tempfile", "random", "xml.etree"]) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_finds_each_installed_python(version: str) -> None:
    found = interpreter(version)
    assert found.version.startswith(version + ".")
    assert found.implementation == "CPython"
    done = subprocess.run(
        [found.path, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.strip() == str(tuple(int(p) for p in version.split(".")))


def test_steps_that_start_together_all_find_uv(tmp_path: Path) -> None:
    """Eight threads ask for uv at once in a fresh process (no uv on PATH, so the `uv` package's finder,
    which reads `sysconfig`, is used): each gets the same answer, none raises (a half-initialised
    `sysconfig` made steps of a parallel matrix fail with a TypeError)."""
    script = (
        "import json, threading\n"
        "from gryt_python.backends import find_uv\n"
        "barrier, found = threading.Barrier(8), []\n"
        "def ask():\n"
        "    barrier.wait()\n"
        "    try:\n"
        "        found.append(find_uv())\n"
        "    except Exception as exc:\n"
        "        found.append(repr(exc))\n"
        "threads = [threading.Thread(target=ask) for _ in range(8)]\n"
        "for t in threads: t.start()\n"
        "for t in threads: t.join()\n"
        "print(json.dumps(sorted(set(map(str, found)))))\n"
    )
    for _ in range(5):
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PATH": str(tmp_path)},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        answers = json.loads(done.stdout)
        assert len(answers) == 1 and "Error" not in answers[0], answers


def test_a_missing_version_lists_what_was_found() -> None:
    with pytest.raises(ConfigError) as caught:
        find_interpreter("3.99", "tests")
    message = str(caught.value)
    assert message.startswith(
        "tests.python: no Python 3.99 found on PATH, in pyenv's or uv's interpreters; found: "
    )
    assert "\n" not in message
    assert "3.99" not in message.split("found: ", 1)[1]


def test_pyenv_folder_is_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Python only in PYENV_ROOT (not on PATH) is found by its folder; a broken build there is passed over."""
    real = interpreter("3.12")
    good = tmp_path / "versions" / "3.12.99" / "bin"
    good.mkdir(parents=True)
    (good / "python3").symlink_to(real.path)
    broken = tmp_path / "versions" / "3.12.100" / "bin"
    broken.mkdir(parents=True)
    (broken / "python3").write_text("#!/bin/sh\nexit 3\n")
    (broken / "python3").chmod(stat.S_IRWXU)
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "no-uv"))
    found = find_interpreter("3.12", "t")
    assert found.path == str(good / "python3")
    assert found.version == real.version


def test_a_path_that_is_no_python_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^t\.python: '/no/such/python' is not a working Python interpreter$"
    ):
        find_interpreter("/no/such/python", "t")


def test_interpreter_answers_are_kept_in_the_cache_file_given(tmp_path: Path) -> None:
    """A fresh process asks gryt's Python once and keeps the answer in `cache`; the next process takes
    the (here doctored) answer from the file instead of asking; without a file nothing is kept."""
    cache = tmp_path / "interpreters.json"
    own = ".".join(map(str, sys.version_info[:3]))
    script = (
        "import sys\nfrom pathlib import Path\n"
        "from gryt_python.interpreters import find_interpreter\n"
        "cache = Path(sys.argv[1]) if sys.argv[1] else None\n"
        "print(find_interpreter(None, 't', cache).version)\n"
    )

    def version(cache_arg: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", script, cache_arg], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert version("") == own
    assert not cache.exists()
    assert version(str(cache)) == own
    [(key, answer)] = json.loads(cache.read_text(encoding="utf-8")).items()
    cache.write_text(json.dumps({key: [answer[0], answer[1], "9.9.9"]}), encoding="utf-8")
    assert version(str(cache)) == "9.9.9"


def test_credentials_in_urls_are_secrets_and_leave_argv() -> None:
    args = [
        "--no-index",
        "--index-url",
        "https://ci:s3cr%40t-token@pkgs.example/simple",
        "pytest",
        "lib @ https://u:p4ssw0rd@h/lib.whl",
    ]
    assert credentials.url_secrets(args[2]) == ["s3cr%40t-token", "s3cr@t-token", "ci:s3cr%40t-token"]
    public, private = credentials.split_private(args)
    assert public == ["--no-index", "pytest"]
    assert private == [
        "--index-url https://ci:s3cr%40t-token@pkgs.example/simple",
        "lib @ https://u:p4ssw0rd@h/lib.whl",
    ]
    with credentials.private_arguments(args) as argv:
        assert argv[:2] == ["--no-index", "pytest"] and argv[2] == "-r"
        path = Path(argv[3])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text().splitlines() == private
    assert not path.exists()
    assert credentials.split_private(["pytest", "https://h/simple"]) == (["pytest", "https://h/simple"], [])


def test_reads_a_real_pytest_report(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", failing=True)
    report = tmp_path / "report.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests",
            f"--junitxml={report}",
            "-o",
            "junit_family=xunit1",
        ],
        cwd=project,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(project / "src"), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        check=False,
    )
    tally = read_report(report)
    assert {k: tally.get(k) for k in ("passed", "failed", "errors", "skipped")} == {
        "passed": 3,
        "failed": 1,
        "errors": 1,
        "skipped": 1,
    }
    assert tally.get("failing") == ["tests/test_calc.py::test_wrong", "tests/test_calc.py::test_broken"]
    cases = {c["id"]: c for c in tally.get("cases", [])}
    assert cases["tests/test_calc.py::TestMore::test_zero"]["status"] == "passed"
    assert cases["tests/test_calc.py::test_wrong"]["message"].startswith("assert 4 == 5")
    assert cases["tests/test_calc.py::test_broken"]["status"] == "error"
    assert "fixture broke" in cases["tests/test_calc.py::test_broken"]["message"]
    assert cases["tests/test_calc.py::test_later"]["status"] == "skipped"


def test_a_missing_report_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"cannot read the JUnit report nothing\.xml"):
        read_report(tmp_path / "nothing.xml")


TALLY = {
    "passed": 412,
    "failed": 1,
    "errors": 0,
    "skipped": 2,
    "failing": ["tests/test_api.py::test_login"],
    "cases": [
        {
            "id": "tests/test_api.py::test_login",
            "status": "failed",
            "duration": 0.5,
            "message": "assert 401 == 200",
        },
        {"id": "tests/test_api.py::test_ok", "status": "passed", "duration": 0.1},
        {"id": "tests/test_api.py::test_later", "status": "skipped"},
    ],
}


def test_counts_read_leniently() -> None:
    assert describe(tally_of({"tests": TALLY}) or {}) == "412 passed, 1 failed, 2 skipped"
    assert counts_suffix({"tests": {"passed": 3, "failed": -1, "skipped": "2"}}) == " (3 passed)"
    assert counts_suffix({"tests": "many"}) == "" and tally_of({}) is None
    assert describe({}) == "no tests"
    many = failing_lines({"failing": [f"t{i}" for i in range(25)]}, limit=20)
    assert many[0] == "failing tests:" and many[-1] == "  ... and 5 more" and len(many) == 22


def result_with_tests() -> dict[str, object]:
    step = {
        "status": "error",
        "returncode": 1,
        "duration": 3.0,
        "error": "pytest: 1 failed (exit code 1)",
        "tests": TALLY,
        "stdout": "F..\n",
    }
    return {"run_id": "r1", "status": "error", "runners": {"test": {"unit": step}}}


def test_junit_nests_the_cases_under_the_step() -> None:
    root = build_junit(result_with_tests(), "ci")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["test", "test/unit"]
    nested = suites["test/unit"]
    assert (nested.get("tests"), nested.get("failures"), nested.get("skipped")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in nested.iter("testcase")}
    failure = cases["tests/test_api.py::test_login"].find("failure")
    assert failure is not None and failure.get("message") == "assert 401 == 200"
    assert cases["tests/test_api.py::test_later"].find("skipped") is not None
    assert cases["tests/test_api.py::test_ok"].get("time") == "0.100"
    ET.tostring(root)


def test_plain_summary_shows_counts_and_failing_ids() -> None:
    out = io.StringIO()
    render_plain_summary(result_with_tests(), out, 3.0, Failures(tail=5, logs={}))
    lines = out.getvalue().splitlines()
    assert lines[0] == "test/unit tests: 412 passed, 1 failed, 2 skipped"
    assert "test/unit failing tests:" in lines and "test/unit   tests/test_api.py::test_login" in lines
