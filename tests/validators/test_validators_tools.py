"""`tools` validator against real stub executables on PATH."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gryt.config import resolve_config
from gryt.errors import ConfigError
from gryt_validators.tools import ToolValidator, is_older, parse_version

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stub tools are POSIX shell scripts")

REALISTIC = {
    "git": ("echo 'git version 2.39.5'", (2, 39, 5)),
    "node": ("echo 'v20.20.2'", (20, 20, 2)),
    "rustc": ("echo 'rustc 1.95.0 (59807616e 2026-04-14)'", (1, 95, 0)),
    "docker": ("echo 'Docker version 28.2.2, build e6534b4'", (28, 2, 2)),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("git version 2.39.5", (2, 39, 5)),
        ("v20.20.2", (20, 20, 2)),
        ("rustc 1.95.0 (59807616e 2026-04-14)", (1, 95, 0)),
        ("Docker version 28.2.2, build e6534b4", (28, 2, 2)),
        ("tool v2.1", (2, 1)),
        ("tool 1.4.0-beta", (1, 4, 0)),
        ("tool 3.2 (build 7)", (3, 2)),
        ("go version go1.22.3 linux/amd64", (1, 22, 3)),
        ("no version here, build 7", None),
        ("", None),
    ],
)
def test_parse_version_finds_first_dotted_token(text: str, expected: tuple[int, ...] | None) -> None:
    assert parse_version(text) == expected


def test_version_comparison_is_numeric_per_component() -> None:
    assert not is_older((1, 10), (1, 9))
    assert is_older((1, 9), (1, 10))
    assert not is_older((2,), (2, 0, 0))
    assert is_older((2, 0), (2, 0, 1))


@given(
    found=st.lists(st.integers(0, 500), min_size=2, max_size=4),
    required=st.lists(st.integers(0, 500), min_size=1, max_size=4),
    prefix=st.sampled_from(["", "v", "tool ", "tool version v"]),
    suffix=st.sampled_from(["", "-beta", " (build 7)", ", build e6534b4"]),
)
def test_parse_and_compare_agree_with_padded_tuples(
    found: list[int], required: list[int], prefix: str, suffix: str
) -> None:
    text = prefix + ".".join(map(str, found)) + suffix
    assert parse_version(text) == tuple(found)
    width = max(len(found), len(required))

    def padded(version: list[int]) -> tuple[int, ...]:
        return tuple(version) + (0,) * (width - len(version))

    assert is_older(tuple(found), tuple(required)) == (padded(found) < padded(required))


@pytest.mark.parametrize("tool", sorted(REALISTIC))
def test_realistic_versions_pass_and_fail_min_version(stub_bin, tool: str) -> None:
    body, version = REALISTIC[tool]
    stub_bin(tool, body)
    exact = ".".join(map(str, version))
    newer = f"{version[0]}.{version[1] + 1}"
    ok = ToolValidator(tools=[{"name": tool, "min_version": exact}])
    assert ok.run() == []
    [issue] = ToolValidator(tools=[{"name": tool, "min_version": newer}]).run()
    assert issue.kind == "tool_version"
    assert issue.name == tool
    assert issue.details == {"found": exact, "required": newer}
    assert exact in issue.message and newer in issue.message


def test_missing_tool_and_non_executable_file_are_tool_missing(stub_bin, tmp_path: Path) -> None:
    script = stub_bin("gryt-not-executable", "echo 1.0")
    script.chmod(0o644)
    issues = ToolValidator(tools=["gryt-no-such-tool-xyz", {"name": "gryt-not-executable"}]).run()
    assert [(i.kind, i.name) for i in issues] == [
        ("tool_missing", "gryt-no-such-tool-xyz"),
        ("tool_missing", "gryt-not-executable"),
    ]
    assert "not found on PATH" in issues[0].message


def test_presence_only_does_not_run_the_tool(stub_bin, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    stub_bin("quiet", f"touch '{marker}'; echo 1.0")
    assert ToolValidator(tools=["quiet"]).run() == []
    assert not marker.exists()


def test_all_tools_are_reported_at_once(stub_bin) -> None:
    stub_bin("node", REALISTIC["node"][0])
    stub_bin("docker", REALISTIC["docker"][0])
    issues = ToolValidator(
        tools=[
            {"name": "node", "min_version": "22"},
            {"name": "docker", "min_version": "28.10"},
            "gryt-no-such-tool-xyz",
        ]
    ).run()
    assert [i.kind for i in issues] == ["tool_version", "tool_version", "tool_missing"]
    assert issues[1].details == {"found": "28.2.2", "required": "28.10"}


def test_version_on_stderr_custom_args_and_regex(stub_bin) -> None:
    stub_bin("java", 'if [ "$1" = "-version" ]; then echo \'openjdk version "17.0.9" 2023-10-17\' >&2; fi')
    stub_bin("go", 'if [ "$1" = "version" ]; then echo "go version go1.22.3 linux/amd64"; fi')
    stub_bin("fancy", 'echo "fancy 9.9.9 (api 3.1)"')
    validator = ToolValidator(
        tools=[
            {"name": "java", "min_version": "17", "version_args": ["-version"]},
            {"name": "go", "min_version": "1.23", "version_args": ["version"]},
            {"name": "fancy", "min_version": "3.2", "version_regex": r"api (\d+\.\d+)"},
        ]
    )
    issues = validator.run()
    assert [(i.name, i.details) for i in issues] == [
        ("go", {"found": "1.22.3", "required": "1.23"}),
        ("fancy", {"found": "3.1", "required": "3.2"}),
    ]


def test_version_regex_without_group_and_bare_major(stub_bin) -> None:
    stub_bin("major", 'echo "major release 20 (lts)"')
    ok = ToolValidator(tools=[{"name": "major", "min_version": "20", "version_regex": r"(?<=release )\d+"}])
    assert ok.run() == []
    [issue] = ToolValidator(
        tools=[{"name": "major", "min_version": "21", "version_regex": r"release (\d+)"}]
    ).run()
    assert issue.details == {"found": "20", "required": "21"}


def test_non_zero_exit_is_an_issue_not_an_exception(stub_bin) -> None:
    stub_bin("broken", "echo 'broken: cannot load libfoo.so' >&2; exit 3")
    [issue] = ToolValidator(tools=[{"name": "broken", "min_version": "1.0"}]).run()
    assert issue.kind == "tool_version"
    assert issue.details is not None and issue.details["found"] is None
    assert "exited with 3" in issue.message
    assert "cannot load libfoo.so" in issue.message


def test_output_without_a_version_is_an_issue(stub_bin) -> None:
    stub_bin("vague", "echo 'vague: the best tool'")
    [issue] = ToolValidator(tools=[{"name": "vague", "min_version": "1.0"}]).run()
    assert issue.kind == "tool_version"
    assert "no version found" in issue.message


def test_hanging_tool_is_killed_with_its_children(stub_bin, tmp_path: Path, wait_dead) -> None:
    pid_file, child_file = tmp_path / "hang.pid", tmp_path / "child.pid"
    stub_bin("hang", f"echo $$ > '{pid_file}'\nsleep 60 &\necho $! > '{child_file}'\nwait")
    validator = ToolValidator(tools=[{"name": "hang", "min_version": "1.0", "timeout": 0.5}])
    started = time.monotonic()
    [issue] = validator.run()
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"validator took {elapsed:.1f}s despite a 0.5 s timeout"
    assert issue.kind == "tool_version"
    assert "`hang --version` timed out after 0.5 s" in issue.message
    for pid_path in (pid_file, child_file):
        pid = int(pid_path.read_text())
        assert wait_dead(pid), f"process {pid} from {pid_path.name} is still running"


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"name": "git", "min_verison": "2"}, 'did you mean "min_version"'),
        ({"name": "git", "min_version": "latest"}, 'expected a version like "1.10"'),
        ({"name": "git", "min_version": 1.1}, "expected a string"),
        ({"name": "git", "version_regex": "("}, "invalid regular expression"),
        ({"name": "git", "timeout": 0}, "timeout: expected a positive number <= 31536000, got 0"),
        (
            {"name": "git", "timeout": float("nan")},
            "timeout: expected a positive number <= 31536000, got nan",
        ),
        ({"name": " "}, 'name: expected a non-empty string, got " "'),
        ({"name": "git", "version_args": "--version"}, "expected a list"),
        ({"name": "git", "version_args": [1]}, "version_args[0]: expected a string, got 1"),
        ({"min_version": "1"}, "name: required key is missing"),
        (["git"], "tools[0]: expected a string or a table, got ['git']"),
    ],
)
def test_bad_tool_entries_are_config_errors(entry: object, fragment: str) -> None:
    with pytest.raises(ConfigError, match=r"^tools\.tools\[0\]") as info:
        ToolValidator(tools=[entry])  # type: ignore[list-item]
    assert fragment in str(info.value)


def test_top_level_key_typo_has_did_you_mean() -> None:
    with pytest.raises(ConfigError, match='did you mean "tools"'):
        resolve_config(ToolValidator.config_keys, {"tool": ["git"]}, where="tools")
