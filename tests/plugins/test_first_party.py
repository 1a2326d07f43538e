"""The first-party table behind "pip install ..." hints says what the distributions really register."""

from __future__ import annotations

from _distributions import PLUGIN_DISTRIBUTIONS

from gryt.plugins import PluginManager
from gryt.plugins.kinds import KINDS
from gryt.plugins.registry import FIRST_PARTY

FIRST_PARTY_DISTRIBUTIONS = set(PLUGIN_DISTRIBUTIONS)


def test_first_party_table_matches_what_the_distributions_register() -> None:
    manager = PluginManager(env={}, warn=False).load()
    registered = {
        (info.distribution, kind, name, cls.__name__)
        for kind in KINDS
        for name, cls, info in manager.registry.items(kind)
        if info.distribution in FIRST_PARTY_DISTRIBUTIONS
    }
    assert {info.distribution for info in manager.plugins.values()} >= FIRST_PARTY_DISTRIBUTIONS
    assert registered == set(FIRST_PARTY)
