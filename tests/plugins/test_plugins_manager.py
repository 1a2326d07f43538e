"""The plugin manager: discovery, isolation of broken plugins, switches, registry messages."""

from __future__ import annotations

import sys

import pytest

from gryt import plugins
from gryt.context import RunContext
from gryt.errors import PluginError
from gryt.events import EventDispatcher
from gryt.plugins import PluginManager, StrictPluginError


def builtin_names(kind: str) -> set[str]:
    """The type names gryt-core's own built-ins register for `kind`."""
    return set(PluginManager(autoload=False, env={}).load().registry.names(kind))


def test_ok_plugin_registers_its_types_after_the_builtins(site):
    mod = site.step_plugin("gryt-hello", "hello")
    manager = site.manager()

    assert list(manager.plugins)[:2] == ["builtins", "hello"]
    info = manager.plugins["hello"]
    assert (info.status, info.error, info.distribution, info.version) == ("ok", None, "gryt-hello", "1.0.0")
    assert info.provides["steps"] == ["hello"]
    assert info.implements == ["gryt_register_steps"]
    assert info.entry_point == mod
    assert info.location is not None and info.location.endswith(f"{mod}.py")
    cls = manager.registry.get("steps", "hello")
    assert cls.__module__ == mod
    assert manager.registry.provider("steps", "hello") is info
    assert manager.registry.get("runtimes", "local").__name__ == "LocalRuntime"
    assert info.to_dict() == {
        "name": "hello",
        "distribution": "gryt-hello",
        "version": "1.0.0",
        "status": "ok",
        "provides": {
            "auth": [],
            "validators": [],
            "runtimes": [],
            "destinations": [],
            "steps": ["hello"],
            "hooks": [],
            "histories": [],
            "caches": [],
        },
        "implements": ["gryt_register_steps"],
        "error": None,
    }


def test_broken_import_marks_only_that_plugin_and_warns_once(site, capsys):
    site.step_plugin("gryt-good", "good")
    bad = site.module(site.mod("broken"), "import gryt_no_such_module_xyz\n")
    site.dist("gryt-broken", "2.0", plugins={"broken": bad})

    manager = site.manager()
    info = manager.plugins["broken"]
    assert info.status == "error"
    assert info.error == "import failed: ModuleNotFoundError: No module named 'gryt_no_such_module_xyz'"
    assert manager.plugins["good"].status == "ok"
    assert set(manager.registry.names("steps")) - builtin_names("steps") == {"good"}
    err = capsys.readouterr().err.splitlines()
    assert err == [
        'gryt: warning: plugin "broken" of gryt-broken 2.0 failed to load: import failed: '
        "ModuleNotFoundError: No module named 'gryt_no_such_module_xyz'; see `gryt plugins list`"
    ]
    site.manager()  # a second manager in the same process does not repeat the warning
    assert capsys.readouterr().err == ""
    with pytest.raises(PluginError) as exc:
        manager.registry.get("steps", "broken")
    assert str(exc.value) == (
        'step type "broken" is probably provided by plugin "broken" of gryt-broken 2.0, which failed to load: '
        "import failed: ModuleNotFoundError: No module named 'gryt_no_such_module_xyz'"
    )


def test_raising_register_hook_leaves_nothing_half_registered(site):
    mod = site.mod("raiser")
    site.module(
        mod,
        """
        from gryt import hookimpl
        from gryt.step import Step

        class FirstStep(Step):
            name = "first"
            def run(self):
                return {"status": "success"}

        calls = []

        @hookimpl
        def gryt_register_steps(register):
            register(FirstStep)
            raise RuntimeError("boom\\nsecond line")

        @hookimpl
        def gryt_pipeline_start(pipeline, context):
            calls.append("start")
        """,
    )
    site.dist("gryt-raiser", plugins={"raiser": mod})
    manager = site.manager(warn=False)

    info = manager.plugins["raiser"]
    assert info.status == "error"
    assert info.error == "gryt_register_steps raised RuntimeError: boom"
    assert info.provides["steps"] == []
    assert "first" not in manager.registry.names("steps")
    with pytest.raises(
        PluginError,
        match=r'step type "first" is provided by plugin "raiser" of gryt-raiser 1.0.0, which failed to load: gryt_register_steps raised RuntimeError: boom$',
    ):
        manager.registry.get("steps", "first")
    with plugins.use_manager(manager):
        EventDispatcher().pipeline_start(None, RunContext())
    assert sys.modules[mod].calls == []


def test_misspelled_hook_is_an_error_with_a_suggestion(site):
    mod = site.module(
        site.mod("typo"),
        """
        from gryt import hookimpl

        @hookimpl
        def gryt_register_auht(register):
            pass
        """,
    )
    site.dist("gryt-typo", plugins={"typo": mod})
    info = site.manager(warn=False).plugins["typo"]
    assert info.status == "error"
    assert info.error == "unknown hook gryt_register_auht (did you mean gryt_register_auth?)"


def test_wrong_hook_arguments_and_missing_decorator_are_errors(site):
    mod = site.module(
        site.mod("args"),
        """
        from gryt import hookimpl

        @hookimpl
        def gryt_register_auth(reg):
            pass

        def gryt_register_steps(register):
            pass
        """,
    )
    site.dist("gryt-args", plugins={"args": mod})
    info = site.manager(warn=False).plugins["args"]
    assert info.status == "error"
    assert info.error == (
        "gryt_register_auth(reg) asks for unknown argument(s) reg; the hook provides (register); "
        "gryt_register_steps is not decorated with @gryt.hookimpl"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "class Bad:\n    name = 'bad'",
            "Bad is not a subclass of gryt.auth.Auth (required for auth types)",
        ),
        ("class Bad(Auth):\n    pass", "Bad has no type name: set the class attribute `name`"),
        (
            "class Bad(Auth):\n    name = 'Bad_Name'",
            'Bad has an invalid type name "Bad_Name": use lower-case letters, digits and dashes',
        ),
        (
            "class Bad(Auth):\n    name = 'shelf\\n'",
            'Bad has an invalid type name "shelf\n": use lower-case letters, digits and dashes',
        ),
    ],
)
def test_registering_a_bad_class_is_an_error(site, body, reason):
    mod = site.mod("badclass")
    site.module(
        mod,
        "from gryt import hookimpl\nfrom gryt.auth import Auth\n\n"
        + body
        + "\n\n@hookimpl\ndef gryt_register_auth(register):\n    register(Bad)\n",
    )
    site.dist("gryt-badclass", plugins={"badclass": mod})
    info = site.manager(warn=False).plugins["badclass"]
    assert (info.status, info.error) == ("error", f"gryt_register_auth: {reason}")


def test_incompatible_core_requirement_is_not_imported(site, capsys):
    mod = site.step_plugin("gryt-future", "future")
    # rewrite the metadata: needs a gryt-core that does not exist yet; an extra's requirement is ignored
    (next(site.root.glob("gryt_future-*.dist-info")) / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: gryt-future\nVersion: 3.0\n"
        "Requires-Dist: gryt-core>=99\nRequires-Dist: gryt-core<0.0.1; extra == 'test'\n"
    )
    site.step_plugin("gryt-fine", "fine")
    (next(site.root.glob("gryt_fine-*.dist-info")) / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: gryt-fine\nVersion: 1.0\n"
        "Requires-Dist: gryt-core<0.0.1; extra == 'test'\nRequires-Dist: gryt-core>=0.1\n"
    )
    manager = site.manager()
    info = manager.plugins["future"]
    assert info.status == "incompatible"
    assert info.error == f"requires gryt-core>=99 (running {plugins.core_version()})"
    assert mod not in sys.modules
    assert manager.plugins["fine"].status == "ok"
    assert "is incompatible: requires gryt-core>=99" in capsys.readouterr().err


def test_disabled_plugins_are_listed_and_not_imported(site, capsys):
    one = site.step_plugin("gryt-one", "one")
    two = site.step_plugin("gryt-two", "two")
    manager = site.manager({"GRYT_DISABLE_PLUGINS": "one, onne"}, disable=["two"])

    assert manager.plugins["one"].status == "disabled"
    assert manager.plugins["one"].error == "disabled by GRYT_DISABLE_PLUGINS"
    assert manager.plugins["two"].status == "disabled"
    assert manager.plugins["two"].error == "disabled by disable_plugins in the project config"
    assert one not in sys.modules and two not in sys.modules
    assert set(manager.registry.names("steps")) == builtin_names("steps")
    with pytest.raises(PluginError) as exc:
        manager.registry.get("steps", "one")
    assert str(exc.value) == (
        'step type "one" is probably provided by plugin "one" of gryt-one 1.0.0, which is disabled by GRYT_DISABLE_PLUGINS'
    )
    # an unknown name in a switch gets one warning with a suggestion; disabled plugins do not warn
    assert (
        capsys.readouterr().err
        == 'gryt: warning: GRYT_DISABLE_PLUGINS names unknown plugin "onne" (did you mean "one"?)\n'
    )


def test_duplicate_type_names_keep_the_first_and_name_both_distributions(site):
    first = site.step_plugin("gryt-alpha", "dup")
    site.step_plugin("gryt-beta", "dup")
    manager = site.manager(warn=False)

    assert manager.plugins["alpha"].status == "ok"
    beta = manager.plugins["beta"]
    assert beta.status == "error"
    assert (
        beta.error
        == 'step type "dup" is registered by both gryt-alpha (plugin "alpha") and gryt-beta (plugin "beta")'
    )
    assert beta.provides["steps"] == []
    assert manager.registry.get("steps", "dup").__module__ == first


def test_autoload_off_loads_builtins_and_the_allowlist_only(site):
    allowed = site.step_plugin("gryt-allowed", "allowed")
    other = site.step_plugin("gryt-other", "other")
    manager = site.manager({"GRYT_DISABLE_PLUGIN_AUTOLOAD": "1", "GRYT_PLUGINS": "allowed"})

    assert manager.plugins["builtins"].status == "ok"
    assert manager.plugins["allowed"].status == "ok"
    assert manager.plugins["other"].status == "disabled"
    assert (
        manager.plugins["other"].error
        == "disabled by GRYT_DISABLE_PLUGIN_AUTOLOAD=1 (not listed in GRYT_PLUGINS)"
    )
    assert allowed in sys.modules and other not in sys.modules
    assert set(manager.registry.names("steps")) - builtin_names("steps") == {"allowed"}


def test_autoload_false_is_an_isolated_manager(site):
    mod = site.step_plugin("gryt-solo", "solo")
    manager = PluginManager(autoload=False, env={}).load()
    assert list(manager.plugins) == ["builtins"]
    module = __import__(mod)
    info = manager.register_plugin(module, plugins.PluginInfo("solo", "gryt-solo", "1.0.0"))
    assert info.status == "ok"
    assert set(manager.registry.names("steps")) - builtin_names("steps") == {"solo"}
    again = manager.register_plugin(module, plugins.PluginInfo("solo", "gryt-solo-fork", "1.0.0"))
    assert again.status == "error"
    assert again.error == 'plugin name "solo" is already used by gryt-solo'


def test_strict_mode_raises_with_the_original_traceback(site):
    bad = site.module(site.mod("strict"), "raise ValueError('strictly broken')\n")
    site.dist("gryt-strict", plugins={"strict": bad})
    with pytest.raises(
        StrictPluginError, match=r'plugin "strict" of gryt-strict 1.0.0 failed to load'
    ) as exc:
        site.manager({"GRYT_STRICT_PLUGINS": "1"})
    assert isinstance(exc.value.__cause__, ValueError)
    assert exc.value.__cause__.__traceback__ is not None


def test_lifecycle_hooks_are_called_in_isolation(site):
    mods = []
    for name, body in (("a", "raise RuntimeError('hook failed')"), ("b", "seen.append(context)")):
        mod = site.module(
            site.mod(f"life{name}"),
            f"""
            from gryt import hookimpl
            seen = []

            @hookimpl
            def gryt_pipeline_start(context):
                {body}
            """,
        )
        site.dist(f"gryt-life{name}", plugins={f"life{name}": mod})
        mods.append(mod)
    manager = site.manager()
    context = RunContext()
    with plugins.use_manager(manager):
        events = EventDispatcher()
        events.pipeline_start(object(), context)
    assert events.warnings == ["plugin lifea failed in gryt_pipeline_start: RuntimeError: hook failed"]
    assert sys.modules[mods[1]].seen == [context]
    assert manager.plugins["lifea"].implements == ["gryt_pipeline_start"]


def test_unknown_type_lists_known_names_with_a_suggestion_and_failed_plugins(site):
    bad = site.module(site.mod("crash"), "raise OSError('disk on fire')\n")
    site.dist("gryt-crash", plugins={"crash": bad})
    manager = site.manager(warn=False)
    with pytest.raises(PluginError) as exc:
        manager.registry.get("runtimes", "locale")
    assert str(exc.value) == (
        'unknown runtime type "locale" (did you mean "local"?); known: local; '
        "plugins not loaded: crash (gryt-crash, error); see `gryt plugins list`"
    )
    with pytest.raises(PluginError, match='unknown kind "step" \\(did you mean "steps"\\?\\)'):
        manager.registry.get("step", "command")


def test_first_party_type_that_is_not_installed_says_what_to_install(site):
    manager = site.manager()
    with pytest.raises(PluginError) as exc:
        manager.registry.get("auth", "fly")
    assert (
        str(exc.value)
        == 'auth type "fly" is provided by gryt-auth-fly, which is not installed: pip install gryt-auth-fly'
    )
    with pytest.raises(PluginError, match=r"pip install gryt-validators$"):
        manager.registry.get("validators", "env-vars")


def test_familiar_imports_resolve_through_the_registry(site):
    plugins.reset_manager(site.manager())
    with pytest.raises(ImportError) as exc:
        from gryt.auth import FlyAuth  # noqa: F401
    assert (
        str(exc.value)
        == "cannot import name 'FlyAuth' from 'gryt.auth': it is provided by gryt-auth-fly, which is not installed: pip install gryt-auth-fly"
    )
    with pytest.raises(ImportError, match="pip install gryt-validators"):
        from gryt.validators import ToolValidator  # noqa: F401
    with pytest.raises(ImportError, match="cannot import name 'NoSuchThing'"):
        from gryt.auth import NoSuchThing  # noqa: F401
    with pytest.raises(ImportError) as exc:
        from gryt import FlyAuth as TopLevelFlyAuth  # noqa: F401
    assert str(exc.value) == (
        "cannot import name 'FlyAuth' from 'gryt': it is provided by gryt-auth-fly, which is not installed: pip install gryt-auth-fly"
    )
    with pytest.raises(ImportError, match=r"from 'gryt': .*pip install gryt-validators$"):
        from gryt import EnvVarValidator  # noqa: F401
    from gryt import LocalRuntime

    assert LocalRuntime is plugins.get_manager().registry.get("runtimes", "local")


def test_disabled_first_party_import_says_it_is_disabled(site):
    plugins.reset_manager(PluginManager(env={"GRYT_DISABLE_PLUGINS": "fly"}, warn=False).load())
    with pytest.raises(ImportError) as exc:
        from gryt.auth import FlyAuth  # noqa: F401
    assert str(exc.value) == (
        "cannot import name 'FlyAuth' from 'gryt.auth': it is provided by plugin \"fly\" of gryt-auth-fly "
        f"{plugins.get_manager().plugins['fly'].version}, which is disabled by GRYT_DISABLE_PLUGINS"
    )


def test_configure_applies_project_disable_list_to_the_default_manager(site):
    plugins.reset_manager()
    plugins.configure(disable_plugins=["fly"])
    manager = plugins.get_manager(warn=False)
    assert manager.plugins["fly"].status == "disabled"
    assert plugins.get_manager() is manager
    plugins.configure(disable_plugins=[])
    rebuilt = plugins.get_manager(warn=False)
    assert rebuilt is not manager
    assert rebuilt.plugins["fly"].status == "ok"


def test_concurrent_first_use_loads_one_manager(site):
    import threading

    plugins.reset_manager()
    barrier = threading.Barrier(8)
    seen: list[PluginManager] = []

    def use() -> None:
        barrier.wait()
        seen.append(plugins.get_manager(warn=False))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(seen) == 8
    assert len({id(m) for m in seen}) == 1
    assert seen[0].plugins["builtins"].status == "ok"


def test_a_plugin_may_use_the_registry_while_it_loads(site):
    mod = site.module(
        site.mod("reentrant"),
        """
        from gryt.plugins import get_manager

        LOCAL = get_manager().registry.get("runtimes", "local")
        """,
    )
    site.dist("gryt-reentrant", plugins={"reentrant": mod})
    plugins.reset_manager()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plugins, "PluginManager", lambda **kw: PluginManager(path=[str(site.root)], **kw))
        manager = plugins.get_manager(warn=False)
    assert manager.plugins["reentrant"].status == "ok"
    assert sys.modules[mod].LOCAL is manager.registry.get("runtimes", "local")
