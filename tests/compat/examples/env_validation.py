"""gryt-ci 1.x's environment validation example, rewritten from its documented behaviour.

The validators check two variables and a tool before anything runs; every issue is reported at once and
no step runs. Usage: `python env_validation.py DB_PATH`; exits 1 with the report when something is
missing, else runs the release step and exits 0.
"""

from __future__ import annotations

import sys

from gryt import CommandStep, EnvVarValidator, Pipeline, Runner, SqliteData, ToolValidator


def main(db_path: str) -> int:
    data = SqliteData(db_path)
    publish = CommandStep("publish", {"cmd": ["sh", "-c", "echo publishing as $GRYT_COMPAT_USER"]})
    release = Runner([publish])
    pipeline = Pipeline(
        [release],
        data=data,
        validators=[
            EnvVarValidator(required=["GRYT_COMPAT_TOKEN", "GRYT_COMPAT_USER"]),
            ToolValidator(tools=["sh"]),
        ],
    )
    report = pipeline.validate_environment()
    print(f"environment: {report['status']}")
    for issue in report["issues"]:
        print(f"issue ({issue['kind']}): {issue['message']}")
    result = pipeline.execute()
    if result["status"] == "invalid_env":
        print(f"not run: {len(result['issues'])} issue(s)")
    else:
        print(result["runners"]["runner_0"]["publish"]["stdout"].strip())
    print(f"pipeline: {result['status']}")
    data.close()
    return 0 if result["status"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
