"""Secrets, end to end: tokens from auth plugins (a command-based one and the real gryt-auth-fly against a
loopback API), and variables named in `secrets` (TOML key and `Pipeline(secrets=...)`), are masked in every
sink. Each test searches the RAW BYTES of: live output, stdout/stderr of every command, `--json`, the JUnit
file, and every file the run left in the project (database, WAL, logs, hook payloads)."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from .harness import PY, Project, wait_until

PIPELINE = """\
import json
import subprocess
from pathlib import Path

from gryt import Auth, CommandStep, Hook, Pipeline, Runner, Step
from gryt.auth import FlyAuth

ROOT = Path({root!r})


class CommandTokenAuth(Auth):
    \"\"\"token_command style: the token is what a command prints.\"\"\"

    name = "command-token"

    def authenticate(self):
        token = subprocess.run(
            ["cat", str(ROOT / "token.txt")], capture_output=True, text=True, check=True
        ).stdout.strip()
        self.export("DEPLOY_TOKEN", token, secret=True)
        # A careless plugin: the result carries the token; gryt must mask it anyway.
        return {{"status": "success", "note": "logged in with " + token}}


class RecordHook(Hook):
    \"\"\"Appends every payload it is handed to hook-payloads.jsonl; fails once with a secret.\"\"\"

    name = "record"

    def _write(self, kind, payload):
        with open(ROOT / "hook-payloads.jsonl", "a") as out:
            out.write(json.dumps([kind, payload], default=str) + "\\n")

    def on_step_start(self, step, context=None):
        if step.id == "trickle":
            raise RuntimeError("hook saw " + context.env["DEPLOY_TOKEN"])

    def on_step_end(self, step, result, context=None):
        self._write("step_end", result)

    def on_pipeline_end(self, pipeline, results, context=None):
        self._write("pipeline_end", results)

    def on_error(self, scope, error, context=None):
        self._write("error", [scope, str(error)])


class LeakyStep(Step):
    \"\"\"Raises an error whose message holds a secret.\"\"\"

    name = "leaky"

    def run(self):
        raise RuntimeError("cannot deploy with " + self.context.env["DEPLOY_TOKEN"])


SHOW = (
    'echo "deploy=$DEPLOY_TOKEN npm=$NPM_TOKEN fly=$FLY_API_TOKEN short=$SHORT_TOKEN";'
    'echo "stderr deploy=$DEPLOY_TOKEN npm=$NPM_TOKEN fly=$FLY_API_TOKEN" >&2'
)
TRICKLE = (
    "import os, sys, time\\n"
    "for char in os.environ['NPM_TOKEN'] + ' ' + os.environ['DEPLOY_TOKEN'] + '\\\\n':\\n"
    "    sys.stdout.write(char); sys.stdout.flush(); time.sleep(0.002)\\n"
)

PIPELINE = Pipeline(
    [
        Runner(
            [
                CommandStep("show", {{"cmd": ["sh", "-c", SHOW]}}),
                CommandStep("trickle", {{"cmd": [{py!r}, "-c", TRICKLE]}}),
                CommandStep("fail", {{"cmd": ["sh", "-c", 'echo "failing with $NPM_TOKEN" >&2; exit 3']}}),
                LeakyStep("leaky"),
            ],
            config={{"fail_fast": False}},
            id="main",
        )
    ],
    auth_steps=[CommandTokenAuth("deploy"), FlyAuth("fly", {{"method": "api"}})],
    hook=RecordHook(),
    secrets=["NPM_TOKEN", "SHORT_TOKEN"],
    name="leaky",
)
"""

TOML_PIPELINE = """\
[pipeline]
name = "tomlsecrets"
secrets = ["TOML_TOKEN"]

[[auth]]
type = "fly"
id = "fly"
method = "api"

[[runners]]
id = "main"
steps = [
  { id = "show", cmd = ["sh", "-c", "echo toml=$TOML_TOKEN fly=$FLY_API_TOKEN; echo err=$TOML_TOKEN >&2; exit 1"] },
]
"""


class FakeFly(BaseHTTPRequestHandler):
    """The Fly GraphQL `viewer` query on loopback: any token is valid; Authorization headers are kept."""

    seen: list[str] = []

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        FakeFly.seen.append(self.headers.get("Authorization") or "")
        body = json.dumps({"data": {"viewer": {"id": "u1", "email": "ci@example.test"}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def fly_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeFly)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def token(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def project_files(project: Project, skip: set[str]) -> dict[str, bytes]:
    """Raw bytes of every file in the project except the given names (where the secrets come from)."""
    return {
        str(path.relative_to(project.root)): path.read_bytes()
        for path in sorted(project.root.rglob("*"))
        if path.is_file() and path.name not in skip
    }


def assert_nowhere(values: list[str], sinks: dict[str, bytes]) -> None:
    for value in values:
        leaked = [name for name, raw in sinks.items() if value.encode() in raw]
        assert not leaked, f"secret {value[:6]}... found in: {leaked}"


def test_secrets_are_masked_in_every_sink(project: Project, fly_api: str) -> None:
    deploy, npm, fly = token("dep-"), token("npm-"), token("fo1_")
    (project.root / "token.txt").write_text(deploy + "\n")
    project.write_pipeline("leaky.py", PIPELINE.format(root=str(project.root), py=PY))
    env = {"NPM_TOKEN": npm, "FLY_API_TOKEN": fly, "SHORT_TOKEN": "xyz", "FLY_API_BASE_URL": fly_api}
    junit = project.root / "report.xml"

    live = project.run("run", "leaky", "--show", "--junit", str(junit), env=env)
    result_json = project.run("run", "leaky", "--json", env=env)

    assert live.returncode == 1, live.stderr
    assert result_json.returncode == 1, result_json.stderr
    assert f"Bearer {fly}" in FakeFly.seen, "the Fly token was not used, so this test would prove nothing"
    result = json.loads(result_json.stdout)
    run_id = result["run_id"]
    assert result["auth"]["deploy"]["status"] == "success"
    assert result["auth"]["fly"]["status"] == "success"
    steps = result["runners"]["main"]
    assert "deploy=*** npm=*** fly=*** short=xyz" in steps["show"]["stdout"]
    assert "stderr deploy=*** npm=*** fly=***" in steps["show"]["stderr"]
    assert steps["trickle"]["stdout"] == "*** ***\n"
    assert steps["fail"]["status"] == "error"
    assert "failing with ***" in steps["fail"]["stderr"]
    assert steps["leaky"]["status"] == "error"
    assert "***" in steps["leaky"]["error"]
    assert result["auth"]["deploy"]["note"] == "logged in with ***"
    assert b"deploy=*** npm=*** fly=***" in live.stdout + live.stderr
    assert b"hook saw ***" in live.stdout + live.stderr, "the hook error must be reported, masked"

    sinks = {
        "run --show stdout": live.stdout,
        "run --show stderr": live.stderr,
        "run --json stdout": result_json.stdout,
        "run --json stderr": result_json.stderr,
    }
    for args in (
        ["db"],
        ["runs", "list"],
        ["runs", "list", "--json"],
        ["runs", "show", run_id],
        ["runs", "show", run_id, "--json"],
    ):
        done = project.run(*args)
        assert done.returncode == 0, done.stderr
        sinks[f"gryt {' '.join(args)} stdout"] = done.stdout
        sinks[f"gryt {' '.join(args)} stderr"] = done.stderr
    files = project_files(project, skip={"token.txt"})
    sinks.update(files)

    assert junit.exists()
    assert b"***" in junit.read_bytes()
    assert any(name.endswith(".db") for name in files)
    assert b"***" in (project.root / "hook-payloads.jsonl").read_bytes()
    logs = [name for name in files if name.endswith(".log")]
    assert logs, f"no step logs written: {sorted(files)}"
    assert_nowhere([deploy, npm, fly], sinks)
    # Values shorter than 4 characters are not masked (documented): masking "xyz" everywhere is noise.
    assert b"short=xyz" in live.stdout


def test_toml_secrets_key_and_fly_plugin(project: Project, fly_api: str) -> None:
    toml_token, fly = token("tml-"), token("fo1_")
    project.write_pipeline("tomlsecrets.toml", TOML_PIPELINE)
    env = {"TOML_TOKEN": toml_token, "FLY_API_TOKEN": fly, "FLY_API_BASE_URL": fly_api}
    junit = project.root / "report.xml"

    live = project.run("run", "tomlsecrets", "--show", "--junit", str(junit), env=env)
    result_json = project.run("run", "tomlsecrets", "--json", env=env)

    assert live.returncode == 1, live.stderr
    assert f"Bearer {fly}" in FakeFly.seen
    result = json.loads(result_json.stdout)
    show = result["runners"]["main"]["show"]
    assert show["stdout"] == "toml=*** fly=***\n"
    assert show["stderr"] == "err=***\n"
    sinks = {"live stdout": live.stdout, "live stderr": live.stderr, "json": result_json.stdout}
    for args in (["db"], ["runs", "show", result["run_id"]], ["runs", "show", result["run_id"], "--json"]):
        done = project.run(*args)
        assert done.returncode == 0, done.stderr
        sinks[" ".join(args)] = done.stdout + done.stderr
    sinks.update(project_files(project, skip=set()))
    assert b"***" in junit.read_bytes()
    assert_nowhere([toml_token, fly], sinks)


def test_secret_in_a_failing_auth_error_is_masked(project: Project) -> None:
    """An auth step whose error message holds its token: the stored result and stderr show `***`."""
    leaked = token("err-")
    project.write_pipeline(
        "authfail.py",
        "from gryt import Auth, CommandStep, Pipeline, Runner\n\n\n"
        "class Failing(Auth):\n"
        '    name = "failing"\n\n'
        "    def authenticate(self):\n"
        "        import os\n\n"
        '        value = os.environ["LEAKED"]\n'
        "        self.add_secret(value)\n"
        '        return {"status": "error", "error": "rejected token " + value}\n\n\n'
        'PIPELINE = Pipeline([Runner([CommandStep("never", {"cmd": ["true"]})], id="main")],'
        ' auth_steps=[Failing("login")], name="authfail")\n',
    )

    done = project.run("run", "authfail", "--json", env={"LEAKED": leaked})

    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "auth_failed"
    assert result["auth"]["login"]["error"] == "rejected token ***"
    shown = project.run("runs", "show", result["run_id"], "--json")
    sinks = {"stdout": done.stdout, "stderr": done.stderr, "show": shown.stdout + shown.stderr}
    sinks.update(project_files(project, skip=set()))
    assert_nowhere([leaked], sinks)


def test_secrets_never_reach_the_database_files_of_a_running_run(project: Project) -> None:
    """While a run is still going, the database, its WAL and the logs already hold the output, masked."""
    value = token("wal-")
    hold = json.dumps(project.cmd("hold", "hold"))
    project.write_pipeline(
        "walcheck.toml",
        '[pipeline]\nname = "walcheck"\nsecrets = ["WAL_TOKEN"]\n\n[[runners]]\nid = "main"\nsteps = [\n'
        '  { id = "print", cmd = ["sh", "-c", "echo wal=$WAL_TOKEN; echo err=$WAL_TOKEN >&2"] },\n'
        f'  {{ id = "hold", cmd = {hold} }},\n]\n',
    )
    gryt = project.spawn("run", "walcheck", env={"WAL_TOKEN": value})
    project.wait_for_file("hold.started")
    gryt_dir = project.root / ".gryt"

    def stored() -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in gryt_dir.rglob("*") if p.is_file()}

    assert wait_until(lambda: any(b"wal=***" in raw for raw in stored().values()), 15), sorted(stored())
    files = stored()
    assert any(name.endswith("-wal") for name in files), f"no WAL while the run is going: {sorted(files)}"
    assert_nowhere([value], files)

    project.file("hold.release").write_text("")
    assert gryt.wait(timeout=30) == 0, project.output(gryt)
    assert_nowhere([value], {**stored(), "stdout+stderr": "".join(project.output(gryt)).encode()})


ATTACKS = """\
import base64
import hashlib
import json
import os
import sys
import urllib.parse
from pathlib import Path

from gryt import Auth, CommandStep, Hook, Pipeline, Runner
from gryt.validators import Issue, Validator

ROOT = Path({root!r})
PY = {py!r}
# Only in the pipeline file (read from a file here), never in gryt's environment: a step's own env value.
ENV_ONLY = (ROOT / "env-only.txt").read_text().strip()


class FileAuth(Auth):
    \"\"\"Exports a token read from a file, as an auth plugin would after logging in.\"\"\"

    name = "file-token"

    def authenticate(self):
        self.export("AUTH_TOKEN", (ROOT / "auth.txt").read_text().strip(), secret=True)
        return {{"status": "success"}}


class RecordHook(Hook):
    \"\"\"Writes every payload it is handed, and a digest of what `context.env` gives it.\"\"\"

    name = "record"

    def _write(self, kind, payload):
        with open(ROOT / "hook-payloads.jsonl", "a") as out:
            out.write(json.dumps([kind, payload], default=str) + "\\n")

    def on_step_start(self, step, context=None):
        value = context.env.get("AUTH_TOKEN", "")
        (ROOT / "hook-env.sha256").write_text(hashlib.sha256(value.encode()).hexdigest())

    def on_step_end(self, step, result, context=None):
        self._write("step_end", result)

    def on_pipeline_end(self, pipeline, results, context=None):
        self._write("pipeline_end", results)

    def on_error(self, scope, error, context=None):
        self._write("error", [scope, str(error)])


class Leaky(Validator):
    \"\"\"Reports an issue whose message holds secrets, as a careless validator would.\"\"\"

    name = "leaky"

    def run(self):
        if not os.environ.get("LEAKY_VALIDATOR"):
            return []
        return [Issue("leak", "TOKENS", "saw " + os.environ["OVL_A"] + " and " + ENV_ONLY)]


OVERLAP = (
    "import os, sys, time\\n"
    "a, b = os.environ['OVL_A'], os.environ['OVL_B']\\n"
    "for char in 'ovl=' + a + b[len(os.environ['OVL_SHARED']):] + '\\\\n':\\n"
    "    sys.stdout.write(char); sys.stdout.flush(); time.sleep(0.001)\\n"
)
ENCODED = (
    "import base64, os, urllib.parse\\n"
    "t = os.environ['ENC_TOKEN'].encode()\\n"
    "print('b64=' + base64.b64encode(t).decode())\\n"
    "print('basic=' + base64.b64encode(b'ci:' + t).decode())\\n"
    "print('basic2=' + base64.b64encode(b'ci-user:' + t + b'@host').decode())\\n"
    "print('b64url=' + base64.urlsafe_b64encode(b'x' + t).decode())\\n"
    "print('url=' + urllib.parse.quote(t, safe=''))\\n"
    "print('form=' + urllib.parse.quote_plus(t))\\n"
)
BINARY = (
    "import os, sys\\n"
    "sys.stdout.buffer.write(b'bin=' + os.environb[b'BIN_TOKEN'] + b' around=\\\\xff' "
    "+ os.environb[b'ENC_TOKEN'] + b'\\\\xfe\\\\n')\\n"
)
CUT = "import os\\nprint('h' * 30 + os.environ['ENC_TOKEN'] + 't' * 500)\\n"

PIPELINE = Pipeline(
    [
        Runner(
            [
                CommandStep("overlap", {{"cmd": [PY, "-c", OVERLAP]}}),
                CommandStep("encoded", {{"cmd": [PY, "-c", ENCODED]}}),
                CommandStep("binary", {{"cmd": [PY, "-c", BINARY]}}),
                CommandStep("cut", {{"cmd": [PY, "-c", CUT], "max_output": 64}}),
                CommandStep(
                    "envonly",
                    {{"cmd": ["sh", "-c", 'echo "env=$ENV_TOKEN auth=$AUTH_TOKEN"; exit 1'], "env": {{"ENV_TOKEN": ENV_ONLY}}}},
                ),
            ],
            config={{"fail_fast": False}},
            id="main",
        )
    ],
    auth_steps=[FileAuth("login")],
    hook=RecordHook(),
    validators=[Leaky()],
    secrets=["OVL_A", "OVL_B", "ENC_TOKEN", "BIN_TOKEN", "ENV_TOKEN"],
    name="attacks",
)
"""


def hexes(count: int) -> list[str]:
    return [secrets.token_hex(6) for _ in range(count)]


def assert_no_fragment(fragments: list[str], sinks: dict[str, bytes]) -> None:
    """No distinctive part of a secret (random hex, 12 characters) appears in any sink."""
    for fragment in fragments:
        leaked = [name for name, raw in sinks.items() if fragment.encode() in raw]
        assert not leaked, f"secret fragment {fragment} found in: {leaked}"


def test_every_form_of_a_secret_is_masked_in_every_sink(project: Project) -> None:
    """Overlapping secrets, base64/URL-encoded forms, secrets that are not UTF-8, a step's own `env`
    value and an auth export: masked in stdout, stderr, --json, JUnit, logs, the database and its WAL,
    `gryt db`, `runs show` (text and JSON) and hook payloads; `context.env` gives hooks the real value."""
    a, shared, b, enc, bin1, bin2, env_only, auth = hexes(8)
    ovl_a, ovl_b = f"ovA-{a}{shared}", f"{shared}{b}-ovB"
    enc_token = f"enc/{enc}+x=y"
    bin_token = (f"bin-{bin1}".encode() + b"\xff\xfe" + bin2.encode()).decode("utf-8", "surrogateescape")
    (project.root / "env-only.txt").write_text(f"envtok-{env_only}\n")
    (project.root / "auth.txt").write_text(f"authtok-{auth}\n")
    project.write_pipeline("attacks.py", ATTACKS.format(root=str(project.root), py=PY))
    env = {
        "OVL_A": ovl_a,
        "OVL_B": ovl_b,
        "OVL_SHARED": shared,
        "ENC_TOKEN": enc_token,
        "BIN_TOKEN": bin_token,
    }
    junit = project.root / "report.xml"

    live = project.run("run", "attacks", "--show", "--junit", str(junit), env=env)
    done = project.run("run", "attacks", "--json", env=env)

    assert live.returncode == 1, live.stderr
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    steps = result["runners"]["main"]
    assert steps["overlap"]["stdout"] == "ovl=***\n"
    encoded = steps["encoded"]["stdout"].splitlines()
    assert [line.split("=", 1)[0] for line in encoded] == ["b64", "basic", "basic2", "b64url", "url", "form"]
    assert all("***" in line for line in encoded), encoded
    assert steps["binary"]["stdout"] == "bin=*** around=\ufffd***\ufffd\n"
    assert steps["cut"]["stdout"].startswith("h" * 30 + "**"), steps["cut"]["stdout"]
    assert steps["cut"]["truncated"]["stdout"] > 0
    assert steps["envonly"]["stdout"] == "env=*** auth=***\n"
    digest = hashlib.sha256(f"authtok-{auth}".encode()).hexdigest()
    assert (project.root / "hook-env.sha256").read_text() == digest, "hooks get context.env in clear"

    sinks = {"live stdout": live.stdout, "live stderr": live.stderr, "json": done.stdout + done.stderr}
    for args in (
        ["db"],
        ["runs", "list"],
        ["runs", "show", result["run_id"]],
        ["runs", "show", result["run_id"], "--json"],
    ):
        shown = project.run(*args)
        assert shown.returncode == 0, shown.stderr
        sinks[" ".join(args)] = shown.stdout + shown.stderr
    files = project_files(project, skip={"env-only.txt", "auth.txt"})
    sinks.update(files)
    assert any(name.endswith(".log") for name in files)
    assert b"***" in junit.read_bytes()
    assert b"ovl=***" in (project.root / "hook-payloads.jsonl").read_bytes()
    assert_no_fragment([a, b, enc, bin1, bin2, env_only, auth], sinks)


def test_env_validate_masks_what_validators_report(project: Project) -> None:
    """A validator whose issue holds secrets (one from gryt's environment, one only in a step's `env`):
    `gryt env-validate` text and JSON, and the run's stored issues, show `***`."""
    a, env_only = hexes(2)
    (project.root / "env-only.txt").write_text(f"envtok-{env_only}\n")
    (project.root / "auth.txt").write_text("unused-auth-token\n")
    project.write_pipeline("attacks.py", ATTACKS.format(root=str(project.root), py=PY))
    env = {"LEAKY_VALIDATOR": "1", "OVL_A": f"ovA-{a}", "OVL_B": "x", "OVL_SHARED": "", "ENC_TOKEN": "y"}

    text = project.run("env-validate", "attacks", env=env)
    as_json = project.run("env-validate", "attacks", "--json", env=env)
    run = project.run("run", "attacks", "--json", env=env)

    assert text.returncode == as_json.returncode == run.returncode == 1, text.stderr
    assert b"saw *** and ***" in text.stdout
    assert json.loads(as_json.stdout)["issues"][0]["message"] == "saw *** and ***"
    assert json.loads(run.stdout)["status"] == "invalid_env"
    sinks = {"text": text.stdout + text.stderr, "json": as_json.stdout + as_json.stderr}
    sinks["run"] = run.stdout + run.stderr
    sinks.update(project_files(project, skip={"env-only.txt"}))
    assert_no_fragment([a, env_only], sinks)


KILLED = """\
[pipeline]
name = "killed"
secrets = ["STEP_TOKEN"]

[[auth]]
type = "fly"
id = "fly"
method = "api"

[[runners]]
id = "main"
steps = [
  {{ id = "print", cmd = ["sh", "-c", "echo step=$STEP_TOKEN fly=$DEPLOY_WITH"], env = {{ STEP_TOKEN = "{step}", DEPLOY_WITH = "{fly}" }} }},
  {{ id = "hold", cmd = {hold} }},
]
"""


def test_config_is_masked_before_it_is_first_written(project: Project, fly_api: str) -> None:
    """A step's own `env` value of a `secrets` name and the fly token (known before the run from the auth
    step's `token_env_var`) sit in the pipeline's config: gryt is SIGKILLed mid-run, and neither the
    database nor its `-wal` nor the logs hold them; `runs show` and `gryt db` show `***`."""
    step_part, fly_part = hexes(2)
    step, fly = f"steptok-{step_part}", f"fo1_{fly_part}"
    project.write_pipeline(
        "killed.toml", KILLED.format(step=step, fly=fly, hold=project.toml_cmd("hold", "hold"))
    )
    gryt = project.spawn("run", "killed", env={"FLY_API_TOKEN": fly, "FLY_API_BASE_URL": fly_api})
    project.wait_for_file("hold.started")
    gryt_dir = project.root / ".gryt"

    def stored() -> dict[str, bytes]:
        """What gryt wrote: the database files and the logs (not the pipeline, which holds the tokens)."""
        return {
            str(p): p.read_bytes()
            for p in gryt_dir.rglob("*")
            if p.is_file() and project.pipelines not in p.parents
        }

    assert wait_until(lambda: any(b"step=*** fly=***" in raw for raw in stored().values()), 15)
    os.killpg(gryt.pid, signal.SIGKILL)
    gryt.wait(timeout=30)
    project.file("hold.release").write_text("")
    files = stored()
    assert any(name.endswith("-wal") for name in files), sorted(files)
    assert any(b"DEPLOY_WITH" in raw for raw in files.values()), "the config was not recorded"
    sinks = dict(files)
    run_id = project.runs()[0]["run_id"]
    for args in (["db"], ["runs", "show", run_id], ["runs", "show", run_id, "--json"]):
        shown = project.run(*args)
        assert shown.returncode == 0, shown.stderr
        assert b"***" in shown.stdout or args[-1] == run_id  # the text view shows no output or config
        sinks[" ".join(args)] = shown.stdout + shown.stderr
    assert_no_fragment([step_part, fly_part], sinks)


def test_a_cut_message_keeps_no_part_of_a_secret(project: Project) -> None:
    """A config error shows a bad value shortened: a token in it is dropped whole, not cut after 37
    characters (the value comes from a `secrets` variable the loader cannot know about yet)."""
    value = "ghp_" + secrets.token_hex(30)
    project.write_pipeline(
        "badvalue.py",
        "import os\n\nfrom gryt import CommandStep, Pipeline, Runner\n\n"
        'PIPELINE = Pipeline([Runner([CommandStep("x", {"cmd": ["true"], "timeout": os.environ["TOK"]})], id="m")],'
        ' secrets=["TOK"], name="badvalue")\n',
    )

    done = project.run("run", "badvalue", env={"TOK": value})

    assert done.returncode == 2, done.stderr
    assert b"timeout" in done.stderr
    windows = {value[i : i + 8] for i in range(len(value) - 8)}
    assert not any(w.encode() in done.stdout + done.stderr for w in windows), done.stderr
