"""Step type `pytest`: a `python` step that runs pytest with a JUnit report in the run's log folder and puts
the test counts, failing ids and cases in its result (`tests`, see `gryt.testcounts`)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, ClassVar

from gryt.config import ConfigKey
from gryt.status import ERROR, SUCCESS
from gryt.step import log_name
from gryt.testcounts import Tally, describe
from gryt_python.junit_report import ReportError, read_report
from gryt_python.step import PythonStep

DEFAULT_CMD = ["python", "-m", "pytest"]
_REPORT_OPTIONS = ["-o", "junit_family=xunit1"]
"""xunit1 reports name each case's file, from which pytest's own test ids are rebuilt."""
NO_TESTS_COLLECTED = 5


class PytestStep(PythonStep):
    """Run pytest (`cmd`, default `python -m pytest`, plus `args`) in a managed environment; record its tests."""

    name = "pytest"
    summary = "Run pytest in a managed environment; test counts in the summary and JUnit"
    config_keys: ClassVar[tuple[ConfigKey, ...]] = (
        *(
            ConfigKey("cmd", (list, str), DEFAULT_CMD, key.help, items=key.items)
            if key.name == "cmd"
            else key
            for key in PythonStep.config_keys
        ),
        ConfigKey("args", list, [], "Arguments added to the pytest command (paths, -k, -x)", items=str),
    )

    report_path: Path | None = None
    """The JUnit report of the current (or last) run."""

    def command_for(self, folder: Path) -> list[str] | str:
        """The pytest command with `args` and the options that make it write the JUnit report."""
        cmd = super().command_for(folder)
        extra = [*self.config["args"], f"--junitxml={self.report_path}", *_REPORT_OPTIONS]
        if isinstance(cmd, str):
            return " ".join([cmd, *(shlex.quote(arg) for arg in extra)])
        return [*cmd, *extra]

    def run(self) -> dict[str, Any]:
        if self.context is None:
            from gryt.context import RunContext

            self.context = RunContext()
        log_dir = self.context.log_dir
        import tempfile  # loads `random`: only when a pytest step runs

        with tempfile.TemporaryDirectory(prefix="gryt-pytest-") as scratch:
            folder = Path(log_dir) if log_dir is not None else Path(scratch)
            self.report_path = folder / f"{log_name(self.context.runner_id, self.id)}.junit.xml"
            self.report_path.unlink(missing_ok=True)
            result = super().run()
            if "python_env" in result:
                self._add_tests(result, self.report_path)
        if log_dir is None:
            self.report_path = None
        return result

    def _add_tests(self, result: dict[str, Any], report: Path) -> None:
        """Put the report's tests in `result`; a failure's error then says what failed."""
        returncode = result.get("returncode")
        if not report.exists() and returncode is None:
            return
        try:
            tally = read_report(report)
        except ReportError as exc:
            if result.get("status") == SUCCESS:
                result["status"] = ERROR
                result["error"] = str(exc)
            return
        result["tests"] = tally
        if self.context is not None and self.context.log_dir is not None:
            result["junit_path"] = str(report)
        if result.get("status") == ERROR and returncode is not None:
            failures: Tally = {"failed": tally.get("failed", 0), "errors": tally.get("errors", 0)}
            reason = describe(failures) if any(failures.values()) else "failed"
            if returncode == NO_TESTS_COLLECTED:
                reason = "no tests collected"
            result["error"] = f"pytest: {reason} (exit code {returncode})"
