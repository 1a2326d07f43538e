"""Fake plugin distributions: `.dist-info` folders (METADATA + entry_points.txt) plus modules on a temp path."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gryt import plugins


@dataclass
class Site:
    """A temp folder on sys.path holding fake distributions; module names carry a per-test token."""

    root: Path
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def mod(self, name: str) -> str:
        """A module name unique to this test, so sys.modules never leaks between tests."""
        return f"{name}_{self.token}"

    def module(self, name: str, source: str) -> str:
        """Write module `name` (already tokenised) and return its name."""
        (self.root / f"{name}.py").write_text(textwrap.dedent(source))
        return name

    def dist(
        self,
        name: str,
        version: str = "1.0.0",
        *,
        plugins: Mapping[str, str] | None = None,
        commands: Mapping[str, str] | None = None,
        requires: Sequence[str] = (),
    ) -> None:
        """Write `name-version.dist-info` with `gryt` and `gryt.commands` entry points."""
        info = self.root / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        lines += [f"Requires-Dist: {req}" for req in requires]
        (info / "METADATA").write_text("\n".join(lines) + "\n")
        groups = []
        for group, eps in (("gryt", plugins or {}), ("gryt.commands", commands or {})):
            if eps:
                groups.append(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()))
        (info / "entry_points.txt").write_text("\n".join(groups))

    def manager(self, env: Mapping[str, str] | None = None, **kwargs: object) -> plugins.PluginManager:
        """A loaded manager that discovers only this site's distributions (plus gryt's built-ins)."""
        return plugins.PluginManager(path=[str(self.root)], env=dict(env or {}), **kwargs).load()  # type: ignore[arg-type]

    def step_plugin(self, dist: str, type_name: str, *, version: str = "1.0.0", extra: str = "") -> str:
        """A distribution whose plugin registers one Step type `type_name`; returns the module name."""
        mod = self.mod(dist.replace("-", "_"))
        cls = "".join(part.title() for part in type_name.split("-")) + "Step"
        self.module(
            mod,
            f'''
            from gryt import hookimpl
            from gryt.config import ConfigKey
            from gryt.step import Step


            class {cls}(Step):
                name = "{type_name}"
                summary = "Say {type_name}"
                config_keys = (ConfigKey("greeting", str, "hi", "What to say"),)

                def run(self):
                    return {{"status": "success", "greeting": self.config["greeting"]}}


            @hookimpl
            def gryt_register_steps(register):
                register({cls})
            '''
            + textwrap.dedent(extra),
        )
        self.dist(dist, version, plugins={dist.removeprefix("gryt-"): mod})
        return mod


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.chdir(tmp_path)  # no project config of the surrounding checkout applies
    fake = Site(root)
    yield fake
    for name in [m for m in sys.modules if m.endswith(fake.token)]:
        del sys.modules[name]
    plugins.reset_manager()
    plugins.configure(disable_plugins=())
