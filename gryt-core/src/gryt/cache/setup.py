"""The step cache a project's config chooses: its store looked up among the `caches` plugin types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gryt.errors import ConfigError, GrytError, one_line

if TYPE_CHECKING:
    from gryt.cache.base import Cache
    from gryt.cache.engine import CacheMode, StepCache
    from gryt.project import Project


def open_store(project: Project) -> Cache:
    """The store named by `cache` (default `local`), built with `cache_options`; one-line errors."""
    from gryt.cache.base import Cache
    from gryt.plugins.manager import get_manager

    where = f"{project.config_file.name}: " if project.config_file is not None else ""
    try:
        cls = get_manager().registry.get("caches", project.cache)
    except GrytError as exc:
        raise type(exc)(f"{where}cache: {exc}") from None
    try:
        store = cls(project.root, **project.cache_options)
    except (GrytError, ValueError, TypeError) as exc:
        raise ConfigError(f"{where}cache_options: {one_line(exc, with_type=False)}") from None
    if not isinstance(store, Cache):
        raise ConfigError(f"{where}cache: {project.cache!r} did not build a Cache")
    return store


def step_cache(project: Project, mode: CacheMode) -> StepCache:
    """The run's step cache over the project's store."""
    from gryt.cache.engine import StepCache

    return StepCache(open_store(project), project.root, mode)
