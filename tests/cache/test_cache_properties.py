"""Property: whatever sequence of edits a small tree goes through, a hit never restores outputs that differ
from what a fresh run of the step would produce."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gryt import CommandStep, Pipeline, Runner
from gryt.cache.engine import StepCache
from gryt.cache.local import LocalCache
from gryt.project import in_folder

NAMES = ["a.txt", "b.txt", "sub/c.txt"]
CONTENTS = st.sampled_from([b"", b"x", b"y", b"xy\n", b"yx\n"])
EDITS = st.lists(
    st.tuples(st.sampled_from(["write", "delete", "chmod", "env"]), st.sampled_from(NAMES), CONTENTS),
    min_size=1,
    max_size=6,
)
SCRIPT = 'mkdir -p out && for f in $(find src -type f | sort); do echo "$f $(ls -l $f | cut -c1-4)"; cat $f; done > out/o.txt && echo "$FLAVOUR" >> out/o.txt'


def expected(root: Path, flavour: str) -> bytes:
    """What a fresh run of SCRIPT writes: each file's path, its mode and its content, then the flavour."""
    out = b""
    for path in sorted(p for p in (root / "src").rglob("*") if p.is_file()):
        mode = "-rwx" if path.stat().st_mode & 0o100 else "-rw-"
        out += f"{path.relative_to(root)} {mode}\n".encode() + path.read_bytes()
    return out + flavour.encode() + b"\n"


def run_once(root: Path, flavour: str) -> str:
    step = CommandStep(
        "s",
        {"cmd": SCRIPT, "shell": True, "env": {"FLAVOUR": flavour}},
        inputs=["src/**"],
        outputs=["out"],
    )
    pipeline = Pipeline([Runner([step], id="r")])
    pipeline.cache = StepCache(LocalCache(root), root)
    with in_folder(root):
        result = pipeline.execute()
    assert result["status"] == "success", result
    return str(result["runners"]["r"]["s"]["status"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_random_edits_never_give_a_wrong_hit(tmp_path: Path, edits: list[tuple[str, str, bytes]]) -> None:
    root = tmp_path / "tree"
    shutil.rmtree(root, ignore_errors=True)
    (root / "src" / "sub").mkdir(parents=True)
    (root / "src" / "a.txt").write_bytes(b"x")
    flavour = "one"
    statuses = [run_once(root, flavour)]
    for action, name, content in edits:
        path = root / "src" / name
        if action == "write":
            path.write_bytes(content)
        elif action == "delete":
            path.unlink(missing_ok=True)
        elif action == "chmod" and path.exists():
            path.chmod(path.stat().st_mode ^ 0o100)
        elif action == "env":
            flavour = "two" if flavour == "one" else "one"
        statuses.append(run_once(root, flavour))
        assert (root / "out" / "o.txt").read_bytes() == expected(root, flavour)
    statuses.append(run_once(root, flavour))
    assert statuses[-1] == "cached"
