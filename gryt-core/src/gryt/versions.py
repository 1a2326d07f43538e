"""Version numbers: semver and PEP 440 parsed, ordered, formatted and bumped (no git here).

`gryt.versioning` reads them from git tags and tags releases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gryt.config import did_you_mean
from gryt.errors import ConfigError
from gryt.masking import shorten

LEVELS = ("major", "minor", "patch", "prerelease")
DEFAULT_PRERELEASE = "rc"
TAG_PREFIX = "v"

_NUMBER = r"0|[1-9][0-9]*"
_PRE_ID = r"0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*"
_BUILD_ID = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})\.(?P<patch>{_NUMBER})"
    rf"(?:-(?P<pre>(?:{_PRE_ID})(?:\.(?:{_PRE_ID}))*))?"
    rf"(?:\+(?P<build>{_BUILD_ID}(?:\.{_BUILD_ID})*))?"
)
_PRE_ID_RE = re.compile(_PRE_ID)
_BUILD_ID_RE = re.compile(_BUILD_ID)
_ID_CHARS = re.compile(r"[0-9A-Za-z-]*")
_EXPECTED = "expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], e.g. 1.2.3 or 1.2.4-rc.1"


def _is_numeric(identifier: str) -> bool:
    return identifier.isascii() and identifier.isdigit()


def _show(text: str) -> str:
    """A bad input rendered on one line and kept short, for error messages."""
    return shorten(repr(text), 60)


@dataclass(frozen=True)
class Version:
    """A semantic version (semver.org 2.0.0); ordering follows semver precedence, ignoring build metadata.

    `==` compares every field (build included); use `compare_versions` for precedence equality.
    """

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for field in ("major", "minor", "patch"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"version {field} must be a non-negative integer, got {value!r}")
        for identifier in self.prerelease:
            if not isinstance(identifier, str) or not _PRE_ID_RE.fullmatch(identifier):
                raise ConfigError(f"invalid prerelease identifier {identifier!r} ({_EXPECTED})")
        for identifier in self.build:
            if not isinstance(identifier, str) or not _BUILD_ID_RE.fullmatch(identifier):
                raise ConfigError(f"invalid build identifier {identifier!r} ({_EXPECTED})")

    def __str__(self) -> str:
        return format_version(self)

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    @property
    def core(self) -> Version:
        """The release this version leads to: same numbers, no prerelease, no build."""
        return Version(self.major, self.minor, self.patch)

    def precedence_key(self) -> tuple[object, ...]:
        """Sort key implementing semver precedence: a release sorts after its prereleases."""
        pre = tuple((0, int(i), "") if _is_numeric(i) else (1, 0, i) for i in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.precedence_key() < other.precedence_key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.precedence_key() <= other.precedence_key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.precedence_key() > other.precedence_key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.precedence_key() >= other.precedence_key()


def _diagnose(text: str) -> str:
    """Why `text` is not a semver string, as a short phrase."""
    if not text:
        return "empty version"
    if text != text.strip():
        return "surrounding whitespace"
    main, _, build = text.partition("+")
    core, _, pre = main.partition("-")
    numbers = core.split(".")
    if len(numbers) != 3:
        return f"{len(numbers)} numeric part(s) instead of 3"
    for number in numbers:
        if not (number.isascii() and number.isdigit()):
            return f"{_show(number)} is not a number"
        if len(number) > 1 and number.startswith("0"):
            return f"{_show(number)} has a leading zero"
    for label, part in (
        ("prerelease", pre if "-" in main else None),
        ("build", build if "+" in text else None),
    ):
        if part is None:
            continue
        for identifier in part.split("."):
            if not identifier:
                return f"empty {label} identifier"
            if not _ID_CHARS.fullmatch(identifier):
                return f"{label} identifier {_show(identifier)} has characters other than [0-9A-Za-z-]"
            if (
                label == "prerelease"
                and _is_numeric(identifier)
                and len(identifier) > 1
                and identifier[0] == "0"
            ):
                return f"prerelease identifier {_show(identifier)} has a leading zero"
    return "not semver"


def parse_version(text: str) -> Version:
    """Parse a strict semver string (no `v` prefix, no whitespace); ConfigError says why it is invalid."""
    if not isinstance(text, str):
        raise ConfigError(f"version must be a string, got {type(text).__name__}")
    match = _SEMVER.fullmatch(text)
    if match is None:
        raise ConfigError(f"invalid version {_show(text)}: {_diagnose(text)} ({_EXPECTED})")
    pre, build = match["pre"], match["build"]
    return Version(
        int(match["major"]),
        int(match["minor"]),
        int(match["patch"]),
        tuple(pre.split(".")) if pre else (),
        tuple(build.split(".")) if build else (),
    )


def split_tag(tag: str) -> tuple[str, Version]:
    """Split a tag such as `v1.2.3` or `1.2.3` into its prefix (`"v"` or `""`) and version."""
    if not isinstance(tag, str):
        raise ConfigError(f"version must be a string, got {type(tag).__name__}")
    prefix = TAG_PREFIX if tag.startswith(TAG_PREFIX) else ""
    return prefix, parse_version(tag[len(prefix) :])


def format_version(version: Version, prefix: str = "") -> str:
    """The semver string of `version`, optionally prefixed (`format_version(v, "v")` -> `v1.2.3`)."""
    text = f"{prefix}{version.major}.{version.minor}.{version.patch}"
    if version.prerelease:
        text += "-" + ".".join(version.prerelease)
    if version.build:
        text += "+" + ".".join(version.build)
    return text


def compare_versions(a: Version | str, b: Version | str) -> int:
    """-1, 0 or 1 as `a` sorts before, equal to or after `b` by semver precedence (`v` prefixes allowed)."""
    left = a if isinstance(a, Version) else split_tag(a)[1]
    right = b if isinstance(b, Version) else split_tag(b)[1]
    key_a, key_b = left.precedence_key(), right.precedence_key()
    return (key_a > key_b) - (key_a < key_b)


def check_level(level: str) -> str:
    if level not in LEVELS:
        hint = did_you_mean(level, LEVELS) if isinstance(level, str) else ""
        raise ConfigError(
            f"invalid bump level {_show(str(level))}{hint}; expected one of: {', '.join(LEVELS)}"
        )
    return level


def _check_label(label: str) -> tuple[str, ...]:
    """The identifiers of a prerelease label such as `rc` or `beta`."""
    if not isinstance(label, str) or not label:
        raise ConfigError("prerelease label must be a non-empty string such as 'rc', 'beta' or 'alpha'")
    identifiers = tuple(label.split("."))
    if not all(_PRE_ID_RE.fullmatch(i) for i in identifiers):
        raise ConfigError(
            f"invalid prerelease label {_show(label)}: use dot-separated [0-9A-Za-z-] identifiers "
            "without leading zeros, e.g. 'rc' or 'beta'"
        )
    return identifiers


def _increment(version: Version, level: str) -> Version:
    if level == "major":
        return Version(version.major + 1, 0, 0)
    if level == "minor":
        return Version(version.major, version.minor + 1, 0)
    return Version(version.major, version.minor, version.patch + 1)


def _releases_core(version: Version, level: str) -> bool:
    """Whether bumping the prerelease `version` at `level` just drops the prerelease (1.3.0-rc.1 -> 1.3.0)."""
    if level == "major":
        return version.minor == 0 and version.patch == 0
    if level == "minor":
        return version.patch == 0
    return True


def _next_prerelease(version: Version, label: tuple[str, ...] | None) -> Version:
    if not version.prerelease:
        core = _increment(version, "patch")
        return Version(core.major, core.minor, core.patch, (*(label or (DEFAULT_PRERELEASE,)), "1"))
    current = version.prerelease
    numbered = _is_numeric(current[-1])
    base = current[:-1] if numbered else current
    if label is None or label == base:
        counter = str(int(current[-1]) + 1) if numbered else "1"
        return Version(version.major, version.minor, version.patch, (*base, counter))
    candidate = Version(version.major, version.minor, version.patch, (*label, "1"))
    if candidate <= version:
        raise ConfigError(
            f"prerelease {format_version(candidate)} would not be higher than {format_version(version)}; "
            "use a label that sorts later or bump major, minor or patch"
        )
    return candidate


def bump(version: Version, level: str, prerelease: str | None = None) -> Version:
    """The next version after `version`, always higher by semver precedence; build metadata is dropped.

    `major`/`minor`/`patch` release a prerelease of that level (1.2.4-rc.2 -> 1.2.4) or increment it;
    with a `prerelease` label they start a prerelease of the next version (1.2.3 -> 1.3.0-rc.1).
    `prerelease` counts up (1.2.3 -> 1.2.4-rc.1 -> 1.2.4-rc.2), keeping the current label unless given.
    """
    check_level(level)
    label = _check_label(prerelease) if prerelease is not None else None
    if level == "prerelease":
        return _next_prerelease(version, label)
    if label is not None:
        core = _increment(version.core, level)
        return Version(core.major, core.minor, core.patch, (*label, "1"))
    if version.prerelease and _releases_core(version, level):
        return version.core
    return _increment(version.core, level)


_PEP440 = re.compile(
    rf"(?P<release>(?:{_NUMBER})(?:\.(?:{_NUMBER}))+)"
    rf"(?:(?P<phase>a|b|rc)(?P<pre>{_NUMBER}))?"
    rf"(?:\.post(?P<post>{_NUMBER}))?"
    rf"(?:\.dev(?P<dev>{_NUMBER}))?"
)
PHASES = ("a", "b", "rc")
_PHASE_ALIASES = {"a": "a", "alpha": "a", "b": "b", "beta": "b", "rc": "rc", "c": "rc"}
_EXPECTED_ANY = "expected semver such as 1.2.3 or 1.2.4-rc.1, or PEP 440 such as 26.2, 26.2.0rc1 or 1.0.post1"


@dataclass(frozen=True)
class Pep440Version:
    """A PEP 440 version in canonical form without epoch or local part: `26.2`, `26.2.0rc1`, `1.0.post1.dev2`."""

    release: tuple[int, ...]
    pre: tuple[str, int] | None = None
    post: int | None = None
    dev: int | None = None

    def __str__(self) -> str:
        text = ".".join(str(part) for part in self.release)
        if self.pre is not None:
            text += f"{self.pre[0]}{self.pre[1]}"
        if self.post is not None:
            text += f".post{self.post}"
        if self.dev is not None:
            text += f".dev{self.dev}"
        return text

    @property
    def is_prerelease(self) -> bool:
        return self.pre is not None or self.dev is not None

    def precedence_key(self) -> tuple[object, ...]:
        """PEP 440 ordering: `1.0.dev1 < 1.0a1 < 1.0rc1.dev1 < 1.0rc1 < 1.0 == 1.0.0 < 1.0.post1`."""
        dev = self.dev if self.dev is not None else float("inf")
        post = -1 if self.post is None else self.post
        if self.pre is not None:
            return (_stripped(self.release), 1, (1, (PHASES.index(self.pre[0]), self.pre[1])), post, dev)
        stage = 0 if self.post is None and self.dev is not None else 2
        return (_stripped(self.release), stage, (0, ()), post, dev)


def _stripped(release: tuple[int, ...]) -> tuple[int, ...]:
    """`release` without trailing zeros: 1.2 and 1.2.0 are the same release (PEP 440)."""
    end = len(release)
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return release[:end]


def parse_pep440(text: str) -> Pep440Version:
    """Parse a canonical PEP 440 version of two or more numbers (no `v`, epoch or local part)."""
    if not isinstance(text, str):
        raise ConfigError(f"version must be a string, got {type(text).__name__}")
    match = _PEP440.fullmatch(text)
    if match is None:
        raise ConfigError(f"invalid PEP 440 version {_show(text)} ({_EXPECTED_ANY})")
    return Pep440Version(
        tuple(int(part) for part in match["release"].split(".")),
        (match["phase"], int(match["pre"])) if match["phase"] else None,
        int(match["post"]) if match["post"] is not None else None,
        int(match["dev"]) if match["dev"] is not None else None,
    )


AnyVersion = Version | Pep440Version


def order_key(version: AnyVersion) -> tuple[object, ...]:
    """One ordering for semver and PEP 440 tags: by release numbers, then prerelease before release.

    Semver and PEP 440 prereleases of the same release compare semver first (mixing both styles for
    one release is not something to rely on, but the order stays deterministic).
    """
    if isinstance(version, Pep440Version):
        return version.precedence_key()
    release = _stripped((version.major, version.minor, version.patch))
    if not version.prerelease:
        return (release, 2, (0, ()), -1, float("inf"))
    return (release, 1, (0, version.precedence_key()[4]), -1, float("inf"))


def _parse_any(text: str) -> AnyVersion:
    """Semver first (`1.2.3` is semver), else PEP 440; ConfigError says why neither fits."""
    try:
        return parse_version(text)
    except ConfigError as semver_error:
        if isinstance(text, str) and _PEP440.fullmatch(text):
            return parse_pep440(text)
        reason = str(semver_error).split(": ", 1)[-1].split(" (expected", 1)[0]
        raise ConfigError(f"invalid version {_show(text)}: {reason} ({_EXPECTED_ANY})") from None


def split_any(tag: str) -> tuple[str, AnyVersion]:
    if not isinstance(tag, str):
        raise ConfigError(f"version must be a string, got {type(tag).__name__}")
    prefix = TAG_PREFIX if tag.startswith(TAG_PREFIX) else ""
    return prefix, _parse_any(tag[len(prefix) :])


def _pep440_phase(label: str) -> str:
    phase = _PHASE_ALIASES.get(label) if isinstance(label, str) else None
    if phase is None:
        raise ConfigError(
            f"invalid prerelease label {_show(str(label))} for a PEP 440 version; use a, b or rc"
        )
    return phase


def _pep440_increment(release: tuple[int, ...], level: str) -> tuple[int, ...]:
    """The next release at `level`, keeping the number of components (patch adds a third)."""
    width = max(len(release), 3 if level == "patch" else 2)
    padded = release + (0,) * (width - len(release))
    index = LEVELS.index(level)
    return (*padded[:index], padded[index] + 1, *(0,) * (width - index - 1))


def bump_pep440(version: Pep440Version, level: str, prerelease: str | None = None) -> Pep440Version:
    """The next PEP 440 version, always higher; the rules mirror `bump` for semver.

    A prerelease or dev release is released by the level it belongs to (`26.2.0rc1` patch -> `26.2.0`,
    `26.2rc1` minor -> `26.2`); otherwise the level is incremented (`1.0.post1` patch -> `1.0.1`).
    `prerelease` counts up (`26.2.0rc1` -> `26.2.0rc2`; `26.2` -> `26.2.1rc1`); a label (`a`, `b`,
    `rc`, or `alpha`/`beta`) starts a prerelease of the next version at any level.
    """
    check_level(level)
    phase = _pep440_phase(prerelease) if prerelease is not None else None
    pending = version.is_prerelease and version.post is None
    if level == "prerelease":
        if version.pre is not None and version.post is None:
            current_phase, number = version.pre
            if phase is None or phase == current_phase:
                return Pep440Version(version.release, (current_phase, number + 1))
            candidate = Pep440Version(version.release, (phase, 1))
            if order_key(candidate) <= order_key(version):
                raise ConfigError(
                    f"prerelease {candidate} would not be higher than {version}; "
                    "use a label that sorts later (a < b < rc) or bump major, minor or patch"
                )
            return candidate
        if pending:  # a dev release of the final version: its first candidate
            return Pep440Version(version.release, (phase or "rc", 1))
        return Pep440Version(_pep440_increment(version.release, "patch"), (phase or "rc", 1))
    if phase is not None:
        return Pep440Version(_pep440_increment(version.release, level), (phase, 1))
    if pending and all(part == 0 for part in version.release[LEVELS.index(level) + 1 :]):
        return Pep440Version(version.release)  # the prerelease belongs to this level: release it
    return Pep440Version(_pep440_increment(version.release, level))


def bump_any(version: AnyVersion, level: str, prerelease: str | None) -> AnyVersion:
    if isinstance(version, Pep440Version):
        return bump_pep440(version, level, prerelease)
    return bump(version, level, prerelease)


def format_any(version: AnyVersion, prefix: str = "") -> str:
    return format_version(version, prefix) if isinstance(version, Version) else f"{prefix}{version}"
