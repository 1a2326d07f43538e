"""The GitLab job-log markup: section lines byte for byte as GitLab documents them, and the summary."""

from __future__ import annotations

import io
from types import SimpleNamespace

from gryt_gitlab.joblog import JobLog, section_end, section_name, section_start, summary_lines


def test_section_lines_are_gitlabs_format() -> None:
    assert section_start("gryt.lint.check.0", "lint/check", now=1700000000.5) == (
        "\x1b[0Ksection_start:1700000000:gryt.lint.check.0[collapsed=true]\r\x1b[0Klint/check\n"
    )
    assert (
        section_end("gryt.lint.check.0", now=1700000001)
        == "\x1b[0Ksection_end:1700000001:gryt.lint.check.0\r\x1b[0K\n"
    )
    assert section_name("gryt", "test (py=a)", "unit") == "gryt.test_py_a_.unit"
    assert section_start("s", "a\x1b[31m\nb", now=0).endswith("\x1b[0Ka [31m b\n")


def test_job_log_sections_pair_up_and_the_summary_lists_steps_and_destinations() -> None:
    stream = io.StringIO()
    log = JobLog(stream)
    context = SimpleNamespace(runner_id="lint")
    step = SimpleNamespace(id="check")
    log.step_start(step, context)
    log.step_end(step, {"status": "success"}, context)
    log.step_end(SimpleNamespace(id="never-started"), {"status": "skipped"}, context)
    result = {
        "run_id": "r1",
        "status": "error",
        "runners": {
            "lint": {"check": {"status": "success", "duration": 1.25}},
            "test": {"unit": {"status": "error", "error": "exit code 3", "duration": 0.5}},
        },
        "delivery": {"out": {"status": "skipped", "error": "not delivered"}},
    }
    log.pipeline_end(result, context)
    text = stream.getvalue()
    assert text.count("section_start:") == 2 and text.count("section_end:") == 2
    assert ":gryt.lint.check.0[collapsed=true]\r\x1b[0Klint/check\n" in text
    assert ":gryt.summary\r\x1b[0Kgryt summary\n" in text
    assert summary_lines(result) == [
        "what         status                time  error",
        "lint/check   success               1.2s",
        "test/unit    error                 0.5s  exit code 3",
        "deliver/out  skipped                  -  not delivered",
        "run r1 error",
    ]
