"""Inside GitHub Actions (`GITHUB_ACTIONS=true`), a `gryt run` subprocess: each step's output in a log
group, a failed step as an `::error` annotation with its runner/step and the escaped, masked tail of its
output, the Markdown job summary in `$GITHUB_STEP_SUMMARY`, `run-id`/`status` in `$GITHUB_OUTPUT`; the
token appears in none of them, nor in the database or logs. Outside Actions none of it happens."""

from __future__ import annotations

import json
import re
from pathlib import Path

from _leaks import find_bytes

from gryt_github.actions import command, escape_data, escape_property, output_entry, render_summary

from .conftest import gryt, gryt_env

TOKEN = "ghs_actionsSecret0123456789"
PIPELINE = """
[pipeline]
name = "checks"
secrets = ["API_TOKEN"]

[[runners]]
id = "unit"
steps = [
  { id = "hello", cmd = ["sh", "-c", "echo hello; echo token=$API_TOKEN"] },
  { id = "flaky", cmd = ["sh", "-c", "exit 4"], allow_failure = true },
  { id = "fails", cmd = ["sh", "-c", "for i in $(seq 1 30); do echo line $i; done; echo 'bad: 100%'; echo $API_TOKEN; exit 3"] },
  { id = "after", cmd = ["echo", "never runs"] },
]

[[destinations]]
type = "directory"
id = "copy"
path = "out"
"""


def test_a_run_in_actions_groups_annotates_summarises_and_sets_outputs(tmp_path: Path):
    project = tmp_path / "project"
    (project / ".gryt/pipelines").mkdir(parents=True)
    (project / ".gryt/pipelines/checks.toml").write_text(PIPELINE)
    summary, outputs = tmp_path / "summary.md", tmp_path / "output.txt"
    env = gryt_env(
        GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(outputs), API_TOKEN=TOKEN
    )

    proc = gryt(project, "run", "checks", "--show", env=env)

    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines.count("::group::unit/hello") == 1 and lines.count("::group::unit/fails") == 1
    assert lines.count("::group::unit/flaky") == 1 and "::group::unit/after" not in lines
    assert lines.count("::endgroup::") == 3  # the skipped step opened none and closes none
    assert "::warning title=gryt%3A unit/flaky failed (allowed)::exit code 4" in lines
    opened = lines.index("::group::unit/hello")
    assert "hello" in lines[opened + 1 : lines.index("::endgroup::")]
    [error] = [line for line in lines if line.startswith("::error ")]
    tail = "%0A".join([*(f"line {i}" for i in range(13, 31)), "bad: 100%25", "***"])
    assert error == f"::error title=gryt%3A unit/fails failed::exit code 3%0A{tail}"

    text = summary.read_text()
    assert text.startswith("### ❌ gryt checks: error\n")
    assert "| unit | hello | success |" in text and "| unit | fails | error |" in text
    assert "| unit | after | skipped |" in text
    assert "| copy | skipped |" in text
    assert "](" not in text and "<a " not in text

    entries = re.findall(
        r"^([a-z-]+)<<(ghadelimiter_[0-9a-f]+)\n(.*?)\n\2$", outputs.read_text(), re.M | re.S
    )
    found = {name: value for name, _delimiter, value in entries}
    run_id = json.loads(gryt(project, "runs", "list", "--json", env=gryt_env()).stdout)[0]["run_id"]
    assert found == {"run-id": run_id, "status": "error"}

    assert find_bytes(tmp_path, [TOKEN.encode()]) == []
    assert TOKEN not in proc.stdout + proc.stderr


def test_outside_actions_nothing_is_added(tmp_path: Path):
    project = tmp_path / "project"
    (project / ".gryt/pipelines").mkdir(parents=True)
    (project / ".gryt/pipelines/checks.toml").write_text(PIPELINE)
    summary = tmp_path / "summary.md"

    proc = gryt(project, "run", "checks", "--show", env=gryt_env(GITHUB_STEP_SUMMARY=str(summary)))

    assert proc.returncode == 1
    assert "::group::" not in proc.stdout and "::error" not in proc.stdout
    assert not summary.exists()


def test_workflow_commands_are_escaped_as_actions_reads_them():
    assert escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert escape_property("a: b, c") == "a%3A b%2C c"
    assert command("error", "x\ny", title="t: 1") == "::error title=t%3A 1::x%0Ay\n"
    entry = output_entry("status", "multi\nline")
    name, delimiter = entry.splitlines()[0].split("<<")
    assert (name, entry) == ("status", f"status<<{delimiter}\nmulti\nline\n{delimiter}\n")


def test_summary_cells_cannot_break_the_table_or_make_links():
    result = {
        "status": "success",
        "run_id": "r1",
        "runners": {"a|b": {"s": {"status": "success", "duration": 1.5}}},
        "destinations": {
            "rel": [{"artifact": "dist/x", "status": "success", "url": "https://example.com/x"}]
        },
    }
    text = render_summary("p<script>", result)
    assert "| a\\|b | s | success | 1.50 s |" in text
    assert "`dist/x -> https://example.com/x`" in text
    assert "<script>" not in text


def test_the_plugin_module_is_valid_and_cheap_to_import():
    from gryt.testing import assert_valid_plugin
    from gryt_github import plugin

    assert_valid_plugin(plugin)
