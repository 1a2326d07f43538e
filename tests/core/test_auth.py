"""The Auth base class records each login's outcome, so plugins only return their result."""

from __future__ import annotations

from typing import Any

import pytest

from gryt.auth import Auth


class Scripted(Auth):
    name = "scripted"

    def __init__(self, outcomes: list[Any]) -> None:
        super().__init__("scripted")
        self.outcomes = outcomes

    def authenticate(self) -> dict[str, Any]:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return {"status": outcome}


class Subclassed(Scripted):
    """A subclass of a subclass that overrides authenticate and calls the parent's."""

    name = "subclassed"

    def authenticate(self) -> dict[str, Any]:
        return {**super().authenticate(), "extra": True}


def test_is_authenticated_follows_the_last_result() -> None:
    auth = Scripted(["success", "error", "success"])
    assert not auth.is_authenticated()
    assert auth.authenticate() == {"status": "success"}
    assert auth.is_authenticated()
    auth.cleanup()  # logged out: the next call logs in again instead of reporting skipped
    auth.authenticate()
    assert not auth.is_authenticated()
    auth.authenticate()
    assert auth.is_authenticated()


def test_a_raising_login_is_not_authenticated() -> None:
    auth = Scripted(["success", RuntimeError("network down")])
    auth.authenticate()
    auth.cleanup()
    with pytest.raises(RuntimeError):
        auth.authenticate()
    assert not auth.is_authenticated()


def test_overrides_in_a_deeper_subclass_still_record() -> None:
    auth = Subclassed(["success"])
    assert auth.authenticate() == {"status": "success", "extra": True}
    assert auth.is_authenticated()


class WithCleanup(Scripted):
    """An auth that writes a credential somewhere and removes it in cleanup()."""

    name = "with-cleanup"
    fail_cleanup = False

    def cleanup(self) -> None:
        if self.fail_cleanup:
            raise OSError("config directory is busy")


def test_cleanup_ends_the_login_even_when_it_raises() -> None:
    auth = WithCleanup(["success", "success"])
    auth.authenticate()
    auth.cleanup()
    assert not auth.is_authenticated()
    auth.authenticate()
    auth.fail_cleanup = True
    with pytest.raises(OSError):
        auth.cleanup()
    assert not auth.is_authenticated()


def test_the_base_cleanup_ends_the_login_too() -> None:
    auth = Scripted(["success"])
    auth.authenticate()
    auth.cleanup()
    assert not auth.is_authenticated()


def test_mask_hides_every_declared_secret() -> None:
    auth = Scripted([])
    auth.add_secret("s3cret-token")
    auth.export("API_KEY", "exported-key", secret=True)
    auth.export("REGION", "eu-west-1")
    assert auth.mask("s3cret-token / exported-key / eu-west-1") == "*** / *** / eu-west-1"
    assert auth.secrets == ["s3cret-token", "exported-key"]


def test_mask_in_a_run_masks_the_union_of_its_own_and_the_runs_overlapping_secrets() -> None:
    from gryt.context import RunContext

    auth = Scripted([])
    auth.context = RunContext()
    auth.context.add_secret("SHARED5678-run")
    auth.add_secret("own-1234SHARED")
    assert auth.mask("key=own-1234SHARED5678-run") == "key=***"
