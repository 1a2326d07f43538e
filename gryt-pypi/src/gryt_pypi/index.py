"""Talking to a package index without twine: named repositories, `.pypirc` sections, small HTTP requests
(never following redirects, credentials never forwarded) and the simple API's file listing (PEP 503/691)."""

from __future__ import annotations

import base64
import configparser
import json
import re
import urllib.parse
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

DEFAULT_REPOSITORY_URL = "https://upload.pypi.org/legacy/"
"""The public index's upload URL: the default of `repository_url` (twine's own default too)."""

TEST_REPOSITORY_URL = "https://test.pypi.org/legacy/"
"""The upload URL of the public index's test instance, named `testpypi`."""

NAMED_REPOSITORIES = {"pypi": DEFAULT_REPOSITORY_URL, "testpypi": TEST_REPOSITORY_URL}
"""Names usable as `repository_url` or `repository` without a `.pypirc` section."""

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


class IndexRequestError(Exception):
    """A failed request to the index (unreachable, or an unexpected answer): one line for the user."""


def is_public(url: str) -> bool:
    """Whether `url` is the public index or its test instance, where twine itself knows what exists."""
    return url.startswith(tuple(NAMED_REPOSITORIES.values()))


def is_loopback(url: str) -> bool:
    """Whether `url` points at this machine (where plain http is acceptable for a token)."""
    return (urllib.parse.urlsplit(url).hostname or "") in LOOPBACK_HOSTS


def without_credentials(url: str) -> str:
    """`url` without a `user:password@` part, for results and messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class PypircSection:
    """One `[section]` of a `.pypirc`: its upload URL, user name and password (each may be missing)."""

    name: str
    repository: str | None
    username: str | None
    password: str | None


def read_pypirc(path: Path, section: str) -> PypircSection:
    """Section `section` of the `.pypirc` at `path`; `pypi` and `testpypi` need no section in the file.

    Raises IndexRequestError when the file cannot be read or lacks the section (the message names the
    sections it has, never a value).
    """
    parser = configparser.RawConfigParser()  # no interpolation: a `%` in a password stays as written
    if path.is_file():
        try:
            with path.open(encoding="utf-8") as handle:
                parser.read_file(handle)
        except (OSError, UnicodeDecodeError, configparser.Error) as exc:
            raise IndexRequestError(f"cannot read {path}: {type(exc).__name__}") from None
    if not parser.has_section(section):
        if section in NAMED_REPOSITORIES:
            return PypircSection(section, NAMED_REPOSITORIES[section], None, None)
        where = f"{path} has the sections {', '.join(parser.sections())}" if parser.sections() else ""
        where = where or f"{path} {'has no sections' if path.is_file() else 'does not exist'}"
        raise IndexRequestError(f'repository "{section}" is not a section of the .pypirc: {where}')

    def value(key: str) -> str | None:
        text = parser.get(section, key, fallback="").strip()
        return text or None

    url = value("repository")
    if url is not None:
        url = NAMED_REPOSITORIES.get(url, url)
    elif section in NAMED_REPOSITORIES:
        url = NAMED_REPOSITORIES[section]
    return PypircSection(section, url, value("username"), value("password"))


@dataclass(frozen=True)
class Response:
    """An index's answer, whatever its status."""

    status: int
    reason: str
    content_type: str
    body: bytes
    url: str

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def request(
    url: str,
    *,
    timeout: float,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    data: bytes | None = None,
) -> Response:
    """One HTTP request; any status is returned (a redirect too, never followed), only a failure to get
    an answer raises IndexRequestError. Credentials go in an `Authorization` header that no redirect carries."""
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if auth is not None:
        basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        req.add_unredirected_header("Authorization", f"Basic {basic}")
    opener = urllib.request.build_opener(NoRedirect)
    shown = without_credentials(url)
    try:
        with opener.open(req, timeout=timeout) as answer:
            return Response(
                answer.status, answer.reason, answer.headers.get("Content-Type", ""), answer.read(), url
            )
    except urllib.error.HTTPError as exc:
        with exc:
            body = exc.read()
        return Response(exc.code, str(exc.reason), exc.headers.get("Content-Type", ""), body, url)
    except urllib.error.URLError as exc:
        raise IndexRequestError(f"{shown} is unreachable: {exc.reason}") from None
    except TimeoutError:
        raise IndexRequestError(f"{shown} did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise IndexRequestError(f"{shown} is unreachable: {exc.strerror or exc}") from None


def normalize(name: str) -> str:
    """The PEP 503 normalized form of a project name (`My.Pkg` -> `my-pkg`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def simple_roots(repository_url: str, simple_url: str | None) -> list[str]:
    """Where to look for a project's files: `simple_url`, else guesses from the upload URL (`.../legacy/`
    becomes `.../simple/`; otherwise `<url>/simple/` as pypiserver and GitLab serve it, then `<url>/+simple/`
    as devpi does)."""
    if simple_url:
        return [simple_url.rstrip("/") + "/"]
    base = without_credentials(repository_url).rstrip("/") + "/"
    if base.endswith("/legacy/"):
        return [base[: -len("legacy/")] + "simple/"]
    return [base + "simple/", base + "+simple/"]


class _Links(HTMLParser):
    """The `<a href>` links of a PEP 503 page with their texts (the file names)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def parse_listing(response: Response) -> dict[str, str]:
    """File name -> absolute download URL (without the hash fragment) of a simple API project page."""
    files: dict[str, str] = {}
    if "json" in response.content_type:
        page = response.json()
        entries = page.get("files") if isinstance(page, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("filename"), str):
                href = str(entry.get("url") or "")
                files[entry["filename"]] = urllib.parse.urljoin(response.url, href).split("#")[0]
        return files
    parser = _Links()
    parser.feed(response.body.decode("utf-8", "replace"))
    for href, text in parser.links:
        url = urllib.parse.urljoin(response.url, href).split("#")[0]
        name = text or urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        files[name] = url
    return files


@dataclass(frozen=True)
class Listing:
    """The files of one project on the index: `page` is where they are listed."""

    page: str
    files: dict[str, str]


def project_files(
    roots: list[str], project: str, *, auth: tuple[str, str] | None, timeout: float
) -> Listing | None:
    """The project's files from the first of `roots` that knows it; None when none does (404, or a
    redirect elsewhere such as pypiserver's fallback to another index)."""
    for root in roots:
        page = f"{root}{normalize(project)}/"
        accept = f"{SIMPLE_JSON}, text/html;q=0.1"
        answer = request(page, timeout=timeout, headers={"Accept": accept}, auth=auth)
        if answer.status == 200:
            return Listing(page, parse_listing(answer))
        if answer.status == 404 or 300 <= answer.status < 400:
            continue
        raise IndexRequestError(f"{without_credentials(page)} answered HTTP {answer.status} {answer.reason}")
    return None
