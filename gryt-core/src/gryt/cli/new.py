"""`gryt new NAME [--steps go,python,...] [--format toml|py] [--force]`: write a pipeline file from presets."""

from __future__ import annotations

import re
import sys
from typing import Annotated, Any

import typer

from gryt.cli._common import open_project, reporting

PRESETS: dict[str, list[tuple[str, list[str]]]] = {
    "python": [
        ("python-lint", ["ruff", "check", "."]),
        ("python-test", ["python", "-m", "pytest", "-q"]),
    ],
    "go": [
        ("go-vet", ["go", "vet", "./..."]),
        ("go-test", ["go", "test", "./..."]),
        ("go-build", ["go", "build", "./..."]),
    ],
    "node": [
        ("node-install", ["npm", "ci"]),
        ("node-test", ["npm", "test"]),
    ],
    "rust": [
        ("rust-fmt", ["cargo", "fmt", "--check"]),
        ("rust-clippy", ["cargo", "clippy", "--", "-D", "warnings"]),
        ("rust-test", ["cargo", "test"]),
    ],
    "docker": [
        ("docker-build", ["docker", "build", "-t", "{name}:latest", "."]),
    ],
}
"""Preset steps per `--steps` token; each token becomes one runner."""

DEFAULT_STEPS: list[tuple[str, list[str]]] = [("hello", ["echo", "Hello from {name}"])]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

PYTHON_STEPS: list[tuple[str, dict[str, Any]]] = [
    (
        "python-lint",
        {
            "type": "python",
            "python": "${{ matrix.python }}",
            "install": ["ruff"],
            "cmd": ["ruff", "check", "."],
        },
    ),
    ("python-test", {"type": "pytest", "python": "${{ matrix.python }}", "install": ["-e", ".", "pytest"]}),
]
"""The `python` preset when the step types `python` and `pytest` are installed (gryt-python): each step in a
managed environment, on a matrix of Python versions."""
TYPED_CLASSES = {"python": "PythonStep", "pytest": "PytestStep"}

Step = tuple[str, dict[str, Any]]
LINE_LENGTH = 120
"""The line length of the generated .py pipelines (ruff format's, as this project uses it)."""


def _python_types_installed() -> bool:
    """Whether the plugin registry has the step types `python` and `pytest` (gryt-python, not disabled)."""
    from gryt.plugins import get_manager

    return {"python", "pytest"} <= set(get_manager(warn=False).registry.names("steps"))


def _runners(name: str, tokens: list[str]) -> list[tuple[str, dict[str, Any], list[Step]]]:
    """(runner id, runner keys, [(step id, step keys)]) per token, or one `main` runner with an echo step."""
    chosen = [(t, PRESETS[t]) for t in tokens] if tokens else [("main", DEFAULT_STEPS)]
    runners: list[tuple[str, dict[str, Any], list[Step]]] = []
    for runner, steps in chosen:
        if runner == "python" and _python_types_installed():
            version = "{}.{}".format(*sys.version_info[:2])
            runners.append((runner, {"matrix": {"python": [version]}}, PYTHON_STEPS))
            continue
        commands = [(step, {"cmd": [arg.replace("{name}", name) for arg in cmd]}) for step, cmd in steps]
        runners.append((runner, {}, commands))
    return runners


def render_toml(name: str, tokens: list[str]) -> str:
    import json

    lines = [
        f"# Pipeline {name!r}: run it with `gryt run {name}`; `gryt validate {name}` checks it.",
        "[pipeline]",
        f"name = {json.dumps(name)}",
        "parallel = false",
    ]
    for runner, keys, steps in _runners(name, tokens):
        lines += ["", "[[runners]]", f"id = {json.dumps(runner)}"]
        if "matrix" in keys:
            matrix = ", ".join(f"{k} = {json.dumps(v)}" for k, v in keys["matrix"].items())
            lines.append(f"matrix = {{ {matrix} }}")
        lines.append("steps = [")
        for step, values in steps:
            inline = ", ".join(f"{key} = {json.dumps(value)}" for key, value in values.items())
            lines.append(f"  {{ id = {json.dumps(step)}, {inline} }},")
        lines.append("]")
    return "\n".join(lines) + "\n"


def render_python(name: str, tokens: list[str]) -> str:
    """A `.py` pipeline indented as `ruff format` would (JSON quoting is valid Python for these values)."""
    import json

    runners = []
    used: set[str] = set()
    for runner, keys, steps in _runners(name, tokens):
        body = ""
        for step, values in steps:
            config = {k: v for k, v in values.items() if k != "type"}
            cls = TYPED_CLASSES.get(values.get("type", ""), "CommandStep")
            used.add(cls)
            line = f"                {cls}({json.dumps(step)}, {json.dumps(config)}),\n"
            if len(line) > LINE_LENGTH + 1:  # as ruff format splits it
                line = f"                {cls}(\n{' ' * 20}{json.dumps(step)},\n{' ' * 20}{json.dumps(config)},\n{' ' * 16}),\n"
            body += line
        extra = "".join(f"            {key}={json.dumps(value)},\n" for key, value in keys.items())
        runners.append(
            f"        Runner(\n            [\n{body}            ],\n            id={json.dumps(runner)},\n{extra}        ),\n"
        )
    imports = f"from gryt import {', '.join(sorted({'Pipeline', 'Runner'} | (used & {'CommandStep'})))}\n"
    if used - {"CommandStep"}:
        imports += f"from gryt_python import {', '.join(sorted(used - {'CommandStep'}))}\n"
    return (
        f'"""Pipeline {json.dumps(name)}: run it with `gryt run {name}`."""\n\n'
        "from __future__ import annotations\n\n"
        f"{imports}\n\n"
        "def build() -> Pipeline:\n"
        "    runners = [\n"
        f"{''.join(runners)}"
        "    ]\n"
        f"    return Pipeline(runners, name={json.dumps(name)})\n"
    )


def new(
    name: Annotated[str, typer.Argument(help="Pipeline name (the file is NAME.toml or NAME.py).")],
    steps: Annotated[
        str,
        typer.Option("--steps", help=f"Comma-separated presets: {', '.join(PRESETS)}.", show_default=False),
    ] = "",
    fmt: Annotated[str, typer.Option("--format", help="File format: toml or py.")] = "toml",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Create a pipeline file with preset steps in the pipelines folder."""
    with reporting():
        from gryt.config import did_you_mean
        from gryt.errors import ConfigError
        from gryt.project import display_path

        if not NAME_RE.match(name):
            raise ConfigError(f"{name}: invalid pipeline name; use letters, digits, '-', '_' and '.'")
        if fmt not in ("toml", "py"):
            raise ConfigError(f"--format: unknown format {fmt!r}; use toml or py")
        tokens = [t.strip().lower() for t in steps.split(",") if t.strip()]
        unknown = [t for t in tokens if t not in PRESETS]
        if unknown:
            raise ConfigError(
                f"--steps: unknown preset {unknown[0]!r}{did_you_mean(unknown[0], list(PRESETS))}; "
                f"known presets: {', '.join(PRESETS)}"
            )
        tokens = list(dict.fromkeys(tokens))
        project = open_project()
        folder = project.pipelines_dir
        target = folder / f"{name}.{fmt}"
        other = folder / f"{name}.{'py' if fmt == 'toml' else 'toml'}"
        if other.exists():
            raise ConfigError(
                f"{display_path(other)}: exists; a {target.name} next to it would make the name ambiguous"
            )
        if target.exists() and not force:
            raise ConfigError(f"{display_path(target)}: already exists; pass --force to overwrite it")
        text = render_toml(name, tokens) if fmt == "toml" else render_python(name, tokens)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{display_path(target)}: cannot write: {exc.strerror or exc}") from None
        typer.echo(f"Created {display_path(target)}")
        typer.echo(f"Next: gryt validate {name} && gryt run {name}")
