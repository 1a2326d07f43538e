"""Declared config keys: unknown keys, wrong types, defaults and how bad values are shown."""

from __future__ import annotations

import pytest

from gryt.config import ConfigKey, describe, did_you_mean, resolve_config
from gryt.errors import ConfigError

KEYS = (
    ConfigKey("registry", str, "docker.io", "Registry host"),
    ConfigKey("timeout", (int, float), 30, "Seconds"),
    ConfigKey("retries", int, 0),
    ConfigKey("tags", list, ["latest"]),
    ConfigKey("token_env_var", str, required=True),
)


def test_defaults_are_filled_and_list_defaults_are_copies() -> None:
    first = resolve_config(KEYS, {"token_env_var": "T"})
    assert first == {
        "registry": "docker.io",
        "timeout": 30,
        "retries": 0,
        "tags": ["latest"],
        "token_env_var": "T",
    }
    first["tags"].append("mutated")
    assert resolve_config(KEYS, {"token_env_var": "T"})["tags"] == ["latest"]


def test_unknown_key_names_the_path_and_suggests_the_closest() -> None:
    with pytest.raises(ConfigError, match=r'^auth\[0\]\.regsitry: unknown key \(did you mean "registry"\?\)'):
        resolve_config(KEYS, {"regsitry": "ghcr.io", "token_env_var": "T"}, where="auth[0]")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"timeout": "ten"}, 'timeout: expected a number, got "ten"'),
        ({"retries": True}, "retries: expected an integer, got True"),
        ({"retries": 1.5}, "retries: expected an integer, got 1.5"),
        ({"tags": "latest"}, 'tags: expected a list, got "latest"'),
        ({"timeout": [1]}, "timeout: expected a number, got [1]"),
    ],
)
def test_wrong_types_are_rejected(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_config(KEYS, {"token_env_var": "T", **values})
    assert str(caught.value) == message


def test_an_integer_is_a_number_and_required_keys_are_enforced() -> None:
    assert resolve_config(KEYS, {"token_env_var": "T", "timeout": 5})["timeout"] == 5
    with pytest.raises(ConfigError, match="token_env_var: required key is missing"):
        resolve_config(KEYS, {})


def test_undeclared_keys_accept_anything() -> None:
    assert resolve_config(None, {"anything": [1, {"x": 2}]}) == {"anything": [1, {"x": 2}]}


def test_bad_values_render_on_one_short_line() -> None:
    assert describe("line\nbreak") == '"line\\nbreak"'
    assert "\n" not in describe("\n" * 100)
    assert len(describe("x" * 500)) == 40
    assert did_you_mean("paralel", ["parallel", "name"]) == ' (did you mean "parallel"?)'
    assert did_you_mean("zzz", ["parallel"]) == ""
