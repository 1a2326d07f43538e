"""Project root discovery and project config (`.gryt/config.toml` or `[tool.gryt]`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gryt.errors import ConfigError
from gryt.project import find_root, load_project

from .conftest import write


def test_root_is_found_from_a_subfolder(project: Path) -> None:
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    assert find_root(deep) == project.resolve()
    loaded = load_project(deep)
    assert loaded.root == project.resolve()
    assert loaded.found
    assert loaded.db == project.resolve() / ".gryt" / "gryt.db"
    assert loaded.pipelines_dir == project.resolve() / ".gryt" / "pipelines"


def test_pyproject_tool_gryt_marks_the_root_and_holds_config(tmp_path: Path) -> None:
    root = tmp_path / "py"
    write(
        root / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.gryt]\ndb = "var/runs.db"\nmax_parallel = 3\n',
    )
    (root / "sub").mkdir()
    loaded = load_project(root / "sub")
    assert loaded.root == root.resolve()
    assert loaded.db == root.resolve() / "var" / "runs.db"
    assert loaded.max_parallel == 3
    assert loaded.config_file == root.resolve() / "pyproject.toml"


def test_pyproject_without_tool_gryt_is_not_a_root(tmp_path: Path) -> None:
    write(tmp_path / "a" / "pyproject.toml", '[project]\nname = "x"\n')
    assert find_root(tmp_path / "a") != (tmp_path / "a").resolve()


def test_nearest_marker_wins(project: Path) -> None:
    inner = project / "inner"
    (inner / ".gryt").mkdir(parents=True)
    assert find_root(inner) == inner.resolve()


def test_config_file_settings_are_relative_to_the_root(project: Path) -> None:
    write(
        project / ".gryt" / "config.toml",
        'db = "state/h.db"\npipelines_dir = "ci"\ndisable_plugins = ["fly"]\nparallel = true\n',
    )
    loaded = load_project(project)
    assert loaded.db == project.resolve() / "state" / "h.db"
    assert loaded.pipelines_dir == project.resolve() / "ci"
    assert loaded.disable_plugins == ["fly"]
    assert loaded.parallel is True


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('dbb = "x.db"\n', ["config.toml", "dbb", 'did you mean "db"']),
        ("db = 42\n", ["config.toml", "db: expected a string, got 42"]),
        ("[gryt\n", ["config.toml", "invalid TOML", "line 1"]),
        ("max_parallel = 0\n", ["config.toml", "max_parallel", "at least 1"]),
        ("disable_plugins = [1]\n", ["config.toml", "disable_plugins"]),
    ],
)
def test_bad_config_is_one_clear_error(project: Path, text: str, fragments: list[str]) -> None:
    write(project / ".gryt" / "config.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_project(project)
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_no_project_uses_the_start_folder(tmp_path: Path) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    loaded = load_project(lonely)
    if loaded.found:  # a .gryt/ above the temp folder would make this machine-dependent
        pytest.skip("a gryt project encloses the temp folder")
    assert loaded.root == lonely.resolve()
    assert loaded.db == lonely.resolve() / ".gryt" / "gryt.db"
