"""Suite-wide support: one temp folder per pytest run for builds that xdist workers share (see `_venv`)."""

from __future__ import annotations

import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

import pytest
from _servers.github import github_server  # noqa: F401
from _servers.postgres import postgres_server  # noqa: F401
from _servers.pypi import devpi_server, pypi_server  # noqa: F401
from _servers.registry import basic_registry, bearer_registry  # noqa: F401
from _servers.simple_index import private_index  # noqa: F401
from _servers.verdaccio import npm_registry  # noqa: F401
from _venv import SharedBuilds

# A suite started in the background (`cmd &` in a script) inherits SIGINT ignored, and so would every
# gryt it starts: the Ctrl-C tests need the default disposition in their children (exec resets a handler).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

_SHARED = pytest.StashKey[Path]()
_WORKER_INPUT = "gryt_shared_builds"


def pytest_configure(config: pytest.Config) -> None:
    """The controller (or the only process) makes the folder; workers get it from `pytest_configure_node`."""
    if not hasattr(config, "workerinput"):
        config.stash[_SHARED] = Path(tempfile.mkdtemp(prefix="gryt-tests-"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Tell each xdist worker where the run's shared folder is."""
    node.workerinput[_WORKER_INPUT] = str(node.config.stash[_SHARED])


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the shared folder once every worker has finished."""
    if _SHARED in config.stash:
        shutil.rmtree(config.stash[_SHARED])


@pytest.fixture(scope="session")
def shared_builds(pytestconfig: pytest.Config) -> SharedBuilds:
    """Wheels and venvs made once per pytest run, shared by all xdist workers."""
    worker: dict[str, Any] | None = getattr(pytestconfig, "workerinput", None)
    return SharedBuilds(Path(worker[_WORKER_INPUT]) if worker is not None else pytestconfig.stash[_SHARED])
