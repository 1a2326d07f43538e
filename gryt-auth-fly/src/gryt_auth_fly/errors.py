"""The one exception of gryt-auth-fly: a verification that failed, with a one-line reason."""

from __future__ import annotations


class FlyAuthError(Exception):
    """Verification failed; the message is one line a user can act on and never holds the token."""
