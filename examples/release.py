"""examples/pipelines/release.toml in Python: the same runners, matrix, conditions, allowed failure and
`${{ }}` values, written with keywords (`matrix=`, `if_=`, `allow_failure=`). `gryt plan --json` prints
the same for both files; `gryt run examples/release.py` runs it.
"""

from __future__ import annotations

from gryt import CommandDestination, CommandStep, Pipeline, Runner


def build() -> Pipeline:
    """Tests on four Pythons and an optional lint, then a wheel and an sdist, uploaded on a version tag."""
    test = Runner(
        [
            CommandStep(
                "unit", {"cmd": ["python${{ matrix.python }}", "-m", "unittest", "discover", "-s", "tests"]}
            )
        ],
        id="test",
        matrix={"python": ["3.10", "3.11", "3.12", "3.13"]},
    )
    lint = Runner([CommandStep("style", {"cmd": ["ruff", "check", "."]}, allow_failure=True)], id="lint")
    dist = Runner(
        [
            CommandStep("clean", {"cmd": ["rm", "-rf", "dist"]}),
            CommandStep(
                "dist",
                {
                    "cmd": ["python", "-m", "build", "--no-isolation", "--outdir", "dist"],
                    "env": {"RELEASE_VERSION": "${{ version }}"},
                },
            ),
        ],
        id="build",
        needs=["test", "lint"],
    )
    upload_url = "${{ env.PYPI_UPLOAD_URL || 'https://upload.pypi.org/legacy/' }}"
    pypi = CommandDestination(
        "pypi",
        {
            "cmd": [
                "twine",
                "upload",
                "--non-interactive",
                "--disable-progress-bar",
                "--repository-url",
                upload_url,
                "{artifacts}",
            ],
            "env": {"TWINE_USERNAME": "__token__", "TWINE_PASSWORD": "${{ env.PYPI_TOKEN }}"},
        },
        if_="git.tag =~ 'v*'",
    )
    return Pipeline(
        [test, lint, dist],
        destinations=[pypi],
        artifacts=["dist/*.whl", "dist/*.tar.gz"],
        secrets=["PYPI_TOKEN"],
        name="release",
        parallel=True,
    )
