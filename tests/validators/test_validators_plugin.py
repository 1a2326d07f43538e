"""gryt-validators as a plugin: registration, lazy import, `gryt.validators` imports, documented TOML."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from _imports import loaded

import gryt_validators
from gryt.config import resolve_config
from gryt.errors import ConfigError
from gryt.plugins import PluginInfo, PluginManager, get_manager
from gryt.validators import Issue, Validator

tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")

DOCS = Path(__file__).resolve().parents[2] / "docs" / "validators.md"
TYPES = {
    "env-vars": "EnvVarValidator",
    "tools": "ToolValidator",
    "files": "FileValidator",
    "python": "PythonValidator",
    "git": "GitValidator",
}


def test_import_through_gryt_validators_module() -> None:
    from gryt.validators import (
        EnvVarValidator,
        FileValidator,
        GitValidator,
        PythonValidator,
        ToolValidator,
    )

    for cls in (EnvVarValidator, ToolValidator, FileValidator, PythonValidator, GitValidator):
        assert issubclass(cls, Validator)
        assert cls is getattr(gryt_validators, cls.__name__)
    with pytest.raises(AttributeError):
        _ = gryt_validators.NoSuchValidator


def test_registered_through_the_entry_point() -> None:
    manager = get_manager()
    info = manager.plugins["validators"]
    assert info.status == "ok", info.error
    assert info.distribution == "gryt-validators"
    assert sorted(info.provides["validators"]) == sorted(TYPES)
    assert "gryt_register_validators" in info.implements
    for type_name, class_name in TYPES.items():
        cls = manager.registry.get("validators", type_name)
        assert cls.__name__ == class_name
        summary = cls.summary  # type: ignore[attr-defined]
        assert summary and "\n" not in summary
        assert cls.config_keys, f"{type_name} declares no config keys"  # type: ignore[attr-defined]


def test_fresh_manager_registers_the_five_types() -> None:
    import gryt_validators.plugin

    manager = PluginManager(autoload=False)
    assert manager.registry.names("validators") == []
    info = PluginInfo(name="validators", distribution="gryt-validators", version="0")
    manager.register_plugin(gryt_validators.plugin, info)
    assert info.status == "ok", info.error
    assert manager.registry.names("validators") == sorted(TYPES)


def test_plugin_passes_the_plugin_kit_checks() -> None:
    import gryt_validators.plugin
    from gryt.testing import assert_valid_plugin

    assert_valid_plugin(gryt_validators.plugin)


def test_plugin_module_is_cheap_to_import() -> None:
    heavy = [
        "subprocess",
        "packaging",
        *(f"gryt_validators.{m}" for m in ("tools", "git", "python", "files", "env_vars")),
    ]
    assert loaded("import gryt_validators.plugin", heavy) == []


@pytest.mark.parametrize(
    ("type_name", "typo", "suggestion"),
    [
        ("env-vars", "requried", "required"),
        ("tools", "tool", "tools"),
        ("files", "path", "paths"),
        ("python", "modules_", "modules"),
        ("git", "branches", "branch"),
    ],
)
def test_typo_in_keys_has_did_you_mean(type_name: str, typo: str, suggestion: str) -> None:
    cls = get_manager().registry.get("validators", type_name)
    with pytest.raises(
        ConfigError, match=f'{type_name}.{typo}: unknown key \\(did you mean "{suggestion}"\\?\\)'
    ):
        resolve_config(cls.config_keys, {typo: None}, where=type_name)  # type: ignore[attr-defined]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)


def test_every_documented_toml_validator_constructs() -> None:
    registry = get_manager().registry
    seen: set[str] = set()
    for block in _blocks("toml"):
        for table in tomllib.loads(block).get("validators", []):
            options: dict[str, Any] = dict(table)
            type_name = options.pop("type")
            cls = registry.get("validators", type_name)
            resolve_config(cls.config_keys, options, where=type_name)  # type: ignore[attr-defined]
            assert isinstance(cls(**options), Validator)
            seen.add(type_name)
    assert seen == set(TYPES)


def test_documented_keys_match_declared_keys() -> None:
    text = DOCS.read_text()
    registry = get_manager().registry
    for type_name in TYPES:
        section = text.split(f"## `{type_name}`", 1)[1].split("\n## ", 1)[0]
        documented = set(re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE))
        declared = {key.name for key in registry.get("validators", type_name).config_keys}  # type: ignore[attr-defined]
        assert declared <= documented, f"{type_name}: undocumented keys {declared - documented}"
    from gryt_validators.tools import TOOL_KEYS

    tools_section = text.split("## `tools`", 1)[1].split("\n## ", 1)[0]
    assert {key.name for key in TOOL_KEYS} <= set(
        re.findall(r"^\| `(\w+)` \|", tools_section, flags=re.MULTILINE)
    )


def test_documented_python_examples_construct() -> None:
    from gryt import Pipeline

    ran = 0
    for block in _blocks("python"):
        if "import" not in block.split("\n", 1)[0] or "hookimpl" in block:
            continue
        namespace: dict[str, Any] = {}
        exec(compile(block, str(DOCS), "exec"), namespace)
        if "PIPELINE" in namespace:
            assert isinstance(namespace["PIPELINE"], Pipeline)
            assert len(namespace["PIPELINE"].validators) == 3
        ran += 1
    assert ran == len(TYPES) + 1


def test_documented_custom_validator_registers() -> None:
    [block] = [b for b in _blocks("python") if "hookimpl" in b]
    namespace: dict[str, Any] = {}
    exec(compile(block, str(DOCS), "exec"), namespace)
    manager = PluginManager(autoload=False)
    module = type(sys)("docs_port_free")
    module.gryt_register_validators = namespace["gryt_register_validators"]  # type: ignore[attr-defined]
    info = manager.register_plugin(module, PluginInfo(name="docs", distribution="docs", version="0"))
    assert info.status == "ok", info.error
    assert manager.registry.names("validators") == ["port-free"]
    assert namespace["PortFree"](port=1).run() in ([], [Issue("port_busy", "1", "port is already in use")])
