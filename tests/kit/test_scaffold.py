"""`gryt.scaffold`: names, version ranges, the files it writes, and that the generated tests pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gryt import __version__
from gryt.errors import ConfigError
from gryt.scaffold import SCAFFOLD_KINDS, core_requirement, create_plugin, derive_names

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("gryt-slack", "destination", ("gryt-slack", "gryt_slack", "slack", "SlackDestination", "SLACK")),
        (
            "Gryt_Vault.Auth",
            "auth",
            ("gryt-vault-auth", "gryt_vault_auth", "vault-auth", "VaultAuthAuth", "VAULT_AUTH"),
        ),
        ("nomad", "runtime", ("nomad", "nomad", "nomad", "NomadRuntime", "NOMAD")),
        ("gryt-s3", "destination", ("gryt-s3", "gryt_s3", "s3", "S3Destination", "S3")),
        ("gryt-audit", "hooks", ("gryt-audit", "gryt_audit", "audit", "AuditHook", "AUDIT")),
    ],
)
def test_derives_every_name_from_the_distribution(name, kind, expected):
    names = derive_names(name, kind)
    assert (names.distribution, names.module, names.type_name, names.class_name, names.env_prefix) == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("-gryt", "invalid distribution name"),
        ("gryt slack", "invalid distribution name"),
        ("gryt-slack-", "invalid distribution name"),
        ("gryt/slack", "invalid distribution name"),
        ("gryt-slack\n", "invalid distribution name"),
        ("", "invalid distribution name"),
        ("2fa", "invalid module name"),
        ("class", "invalid module name"),
        ("gryt", "invalid module name"),
        ("gryt-2fa", "invalid type name '2fa'"),
    ],
)
def test_rejects_invalid_names_with_a_clear_message(tmp_path, name, message):
    with pytest.raises(ConfigError, match=message):
        create_plugin(name, "auth", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_rejects_an_unknown_kind(tmp_path):
    with pytest.raises(
        ConfigError, match=r"unknown plugin kind 'destinations'; choose one of: auth, destination"
    ):
        create_plugin("gryt-x", "destinations", tmp_path)


def test_never_overwrites(tmp_path):
    existing = tmp_path / "gryt-slack"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="already exists"):
        create_plugin("gryt-slack", "destination", tmp_path)
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]
    assert (existing / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.1.0", ">=0.1,<0.2"),
        ("0.12.3rc1", ">=0.12,<0.13"),
        ("1.4.2", ">=1.4,<2"),
        ("2.0.0.dev1", ">=2.0,<3"),
    ],
)
def test_core_requirement_is_the_running_minor_series(version, expected):
    assert core_requirement(version) == expected


def test_core_requirement_defaults_to_the_running_core():
    major, minor = (int(part) for part in __version__.split(".")[:2])
    assert core_requirement().startswith(f">={major}.{minor},")


@pytest.mark.parametrize("kind", list(SCAFFOLD_KINDS))
def test_writes_a_publishable_project(tmp_path, kind):
    scaffold = create_plugin("gryt-acme", kind, tmp_path / "plugins")
    root = tmp_path / "plugins" / "gryt-acme"
    assert scaffold.path == root
    module_file = {"hooks": "hooks.py"}.get(kind, f"{kind}.py")
    expected = {
        "pyproject.toml",
        "README.md",
        ".gitignore",
        "src/gryt_acme/__init__.py",
        "src/gryt_acme/py.typed",
        "src/gryt_acme/plugin.py",
        f"src/gryt_acme/{module_file}",
        "tests/test_plugin.py",
    }
    written = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert written == expected == {str(p) for p in scaffold.files}

    meta = tomllib.loads((root / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "gryt-acme"
    assert meta["project"]["dependencies"] == [f"gryt-core{core_requirement()}"]
    assert meta["project"]["entry-points"]["gryt"] == {"acme": "gryt_acme.plugin"}
    assert any(req.startswith("pytest") for req in meta["project"]["optional-dependencies"]["test"])
    assert meta["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/gryt_acme"]
    assert "version" not in meta["project"] and meta["project"]["dynamic"] == ["version"]
    assert meta["tool"]["hatch"]["version"] == {"path": "src/gryt_acme/__init__.py"}

    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "{{" not in text, path
        compile(text, str(path), "exec")
    test_text = (root / "tests" / "test_plugin.py").read_text()
    assert 'pytest_plugins = ["gryt.testing"]' in test_text
    assert "assert_valid_plugin(plugin)" in test_text


def test_generated_tests_pass_as_generated(tmp_path):
    """Every kind's own tests, run by a real pytest (one process for all six) against this checkout."""
    roots = [create_plugin(f"gryt-gen-{kind}", kind, tmp_path).path for kind in SCAFFOLD_KINDS]
    env_path = ":".join(str(root / "src") for root in roots)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            *(str(root / "tests") for root in roots),
        ],
        cwd=tmp_path,
        env={**_clean_env(), "PYTHONPATH": env_path},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout
    assert "failed" not in completed.stdout
    assert "warning" not in completed.stdout.lower()


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GRYT_"))}


def test_generated_tests_are_self_contained(tmp_path: Path):
    root = create_plugin("gryt-solo", "destination", tmp_path).path
    text = (root / "tests" / "test_plugin.py").read_text()
    assert "from gryt_solo import plugin" in text
    assert "conftest" not in {p.name for p in root.rglob("*")}


GRYT = str(Path(sys.executable).with_name("gryt"))


def test_cli_creates_the_project_and_refuses_to_overwrite(tmp_path):
    run = [GRYT, "plugins", "new", "gryt-slack", "--kind", "destination", "--path", str(tmp_path)]
    first = subprocess.run(run, capture_output=True, text=True, timeout=60, check=False)
    assert first.returncode == 0, first.stderr
    assert "destination type 'slack' (SlackDestination)" in first.stdout
    assert (tmp_path / "gryt-slack" / "src" / "gryt_slack" / "destination.py").is_file()
    before = (tmp_path / "gryt-slack" / "pyproject.toml").read_text()

    again = subprocess.run(run, capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 2
    assert again.stderr.strip().startswith("gryt: error: ") and "already exists" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert (tmp_path / "gryt-slack" / "pyproject.toml").read_text() == before


def test_cli_rejects_a_bad_kind_and_a_bad_name(tmp_path):
    bad_kind = subprocess.run(
        [GRYT, "plugins", "new", "gryt-x", "--kind", "publisher", "--path", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad_kind.returncode == 2
    assert "unknown plugin kind 'publisher'; choose one of: auth, destination" in bad_kind.stderr
    bad_name = subprocess.run(
        [GRYT, "plugins", "new", "gryt x", "--kind", "auth", "--path", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad_name.returncode == 2
    assert "invalid distribution name 'gryt x'" in bad_name.stderr
    assert list(tmp_path.iterdir()) == []
