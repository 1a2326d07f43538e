"""Fly token parsing, as flyctl does it: scheme prefixes, comma-separated macaroons, header value."""

from __future__ import annotations

MACAROON_PREFIXES = ("fm1r_", "fm1a_", "fm2_")
"""Deploy, org and other macaroon tokens start with one of these; personal tokens do not."""

_SCHEMES = ("flyv1", "bearer")


def strip_scheme(token: str) -> str:
    """Drop leading `FlyV1 ` / `Bearer ` schemes (case-insensitive, repeated) and surrounding blanks."""
    token = token.strip()
    while True:
        scheme, sep, rest = token.partition(" ")
        if not sep or scheme.lower() not in _SCHEMES:
            return token
        token = rest.strip()


def token_parts(token: str) -> list[str]:
    """The non-empty comma-separated parts of `token` after its scheme is stripped."""
    return [part.strip() for part in strip_scheme(token).split(",") if part.strip()]


def secret_forms(token: str) -> list[str]:
    """Every form of `token` that must be masked: as given, without its scheme, and each part."""
    forms = [token]
    for value in (strip_scheme(token), *token_parts(token)):
        if value not in forms:
            forms.append(value)
    return forms


def is_macaroon(part: str) -> bool:
    return part.startswith(MACAROON_PREFIXES)


def authorization_header(token: str) -> str:
    """The `Authorization` value flyctl sends: `FlyV1 <macaroons>` for macaroon tokens, else `Bearer`.

    Like flyctl, only the macaroon parts of a mixed token go into the `FlyV1` header.
    """
    macaroons = [part for part in token_parts(token) if is_macaroon(part)]
    if macaroons:
        return "FlyV1 " + ",".join(macaroons)
    return "Bearer " + strip_scheme(token)
