"""Declared config keys: unknown keys, wrong types, defaults and how bad values are shown."""

from __future__ import annotations

import pytest

from gryt.config import MAX_SECONDS, ConfigKey, describe, did_you_mean, resolve_config
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
    assert describe("word " * 100) == '"' + "word " * 7 + "..."
    # A long token-like value may be a secret: no part of it is shown (gryt.masking.shorten).
    assert describe("ghp_" + "x" * 500) == '"...'
    assert did_you_mean("paralel", ["parallel", "name"]) == ' (did you mean "parallel"?)'
    assert did_you_mean("zzz", ["parallel"]) == ""


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            ConfigKey("method", str, "auto", choices=("auto", "api")),
            "api2",
            'method: expected one of "auto", "api", got "api2" (did you mean "api"?)',
        ),
        (ConfigKey("level", int, 1, choices=(1, 2)), 3, "level: expected one of 1, 2, got 3"),
        (ConfigKey("tools", list, [], items=str), ["a", "b", 3], "tools[2]: expected a string, got 3"),
        (ConfigKey("env", dict, {}, items=str), {"A": ["x"]}, "env.A: expected a string, got ['x']"),
        (
            ConfigKey("paths", list, [], items=str, non_empty=True),
            ["a", " "],
            'paths[1]: expected a non-empty string, got " "',
        ),
        (ConfigKey("name", str, None, non_empty=True), "", 'name: expected a non-empty string, got ""'),
        (
            ConfigKey("timeout", (int, float), 30, positive=True),
            0,
            "timeout: expected a positive number, got 0",
        ),
        (
            ConfigKey("timeout", (int, float), 30, minimum=0, maximum=MAX_SECONDS),
            1e300,
            "timeout: expected a number between 0 and 31536000, got 1e+300",
        ),
        (
            ConfigKey("max_output", int, 1, positive=True),
            -1,
            "max_output: expected a positive integer, got -1",
        ),
        (ConfigKey("delay", (int, float), 1, minimum=0), -0.5, "delay: expected a number >= 0, got -0.5"),
        (
            ConfigKey("delay", (int, float), 1, minimum=0),
            float("inf"),
            "delay: expected a number >= 0, got inf",
        ),
        (
            ConfigKey("delay", (int, float), 1, minimum=0),
            float("nan"),
            "delay: expected a number >= 0, got nan",
        ),
        (
            ConfigKey("retries", int, 0, minimum=0, maximum=100),
            101,
            "retries: expected an integer between 0 and 100, got 101",
        ),
        (ConfigKey("ratio", float, 0.5, maximum=1), 2, "ratio: expected a number <= 1, got 2"),
    ],
)
def test_constraints_name_the_key_and_what_it_accepts(key: ConfigKey, value: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_config((key,), {key.name: value}, where="step")
    assert str(caught.value) == f"step.{message}"


def test_values_within_the_constraints_pass_unchanged() -> None:
    keys = (
        ConfigKey("method", str, "auto", choices=("auto", "api")),
        ConfigKey("tools", list, [], items=(str, dict), non_empty=True),
        ConfigKey("timeout", (int, float), None, minimum=0),
        ConfigKey("retries", int, 0, minimum=0, maximum=3),
    )
    values = {"method": "api", "tools": ["git", {"name": "x"}], "timeout": 0, "retries": 3}
    assert resolve_config(keys, values) == values
    assert resolve_config(keys, {"timeout": None}) == {
        "method": "auto",
        "tools": [],
        "timeout": None,
        "retries": 0,
    }


def test_an_unknown_key_with_a_line_break_is_reported_on_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_config((ConfigKey("name", str),), {"na\nme": 1}, where="step")
    assert str(caught.value) == 'step."na\\nme": unknown key (did you mean "name"?); accepted keys: name'
