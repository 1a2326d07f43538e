"""gryt-auth-fly as a plugin: entry point, registration, cheap import."""

from __future__ import annotations

import gryt_auth_fly.plugin
from gryt.testing import assert_valid_plugin
from gryt_auth_fly.auth import FlyAuth


def test_registered_as_type_fly_through_the_entry_point():
    from gryt.auth import FlyAuth as Imported
    from gryt.plugins import get_manager

    manager = get_manager()
    assert manager.registry.get("auth", "fly") is FlyAuth
    assert Imported is FlyAuth
    assert manager.plugins["fly"].provides["auth"] == ["fly"]
    assert [k.name for k in FlyAuth.config_keys or ()] == ["token_env_var", "timeout", "api_base", "method"]


def test_plugin_module_is_valid_and_cheap_to_import():
    assert_valid_plugin(gryt_auth_fly.plugin)
