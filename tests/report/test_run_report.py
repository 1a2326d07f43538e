"""`gryt report RUN --html` of a real run, rendered by headless Chromium: every runner and step is on the
page with its status, failures are marked and show their (masked) output, `needs` are drawn, user text
cannot inject markup, and the screenshot is a real picture."""

from __future__ import annotations

import re
import secrets
from collections import Counter
from pathlib import Path

import pytest
from _chromium import Chromium, read_png
from _gryt import Done, run_gryt
from _leaks import find_bytes

from gryt.testing import GrytProject

from .conftest import StepSpec, elements, record_run, text_of

INJECTED = "w<script>alert(1)</script>"
PIPELINE = """\
[pipeline]
name = "ci"
parallel = true
secrets = ["REPORT_TOKEN"]

[[runners]]
id = "lint"
steps = [
  { id = "ruff", cmd = ["sh", "-c", "sleep 0.3; echo lint ok"] },
  { id = "mypy", cmd = ["sh", "-c", "echo '<script>alert(2)</script><b>bold</b>' >&2; exit 3"], allow_failure = true },
]

[[runners]]
id = "test"
steps = [
  { id = "unit", cmd = ["sh", "-c", "sleep 0.2; echo line1; echo token=$REPORT_TOKEN; echo 'FAILED test_x' >&2; exit 1"] },
  { id = "e2e", cmd = ["true"] },
]

[[runners]]
id = "build"
needs = ["lint"]
steps = [{ id = "w<script>alert(1)</script>", cmd = ["sh", "-c", "sleep 0.1"] }]

[[runners]]
id = "docs"
needs = ["test"]
steps = [{ id = "html", cmd = ["true"] }]

[[destinations]]
type = "directory"
id = "dist"
path = "out/"

[artifacts]
paths = ["VERSION"]
"""


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Done]:
    """One real `gryt run` that fails (with an allowed failure, skips and a masked secret), then its report."""
    root = tmp_path_factory.mktemp("report-run")
    (root / ".gryt" / "pipelines").mkdir(parents=True)
    (root / ".gryt" / "pipelines" / "ci.toml").write_text(PIPELINE, encoding="utf-8")
    (root / "VERSION").write_text("1.0\n", encoding="utf-8")
    token = "gryttok-" + secrets.token_urlsafe(18)
    ran = run_gryt("run", "ci", cwd=root, env={"REPORT_TOKEN": token})
    assert ran.code == 1, ran.stderr
    return root, token, run_gryt("report", "last", "--html", cwd=root)


@pytest.fixture(scope="module")
def dom(failed_run: tuple[Path, str, Done], chromium: Chromium) -> str:
    """The report of `failed_run` as Chromium rendered it."""
    root, _, done = failed_run
    assert done.code == 0, done.stderr
    return chromium.dump_dom(root / done.stdout.strip())


def test_report_path_is_printed_and_the_file_is_self_contained(failed_run: tuple[Path, str, Done]) -> None:
    root, token, done = failed_run
    assert done.code == 0, done.stderr
    written = root / done.stdout.strip()
    assert written.parent == root / ".gryt" / "reports"
    assert written.name.endswith(".html")
    html = written.read_text(encoding="utf-8")
    lowered = html.lower()
    for reference in ("<script", "<link", "src=", "@import", "https:", "//fonts"):
        assert reference not in lowered, reference
    assert re.findall(r'href="([^"]*)"', html) == ["#failures"]  # the only link: within the page
    assert "default-src 'none'" in html
    assert find_bytes(root / ".gryt" / "reports", [token.encode()]) == []
    assert "***" in html  # the secret the step printed is there, masked


def test_every_runner_and_step_is_rendered_with_its_status(dom: str) -> None:
    found = elements(dom)
    lanes = {e.attrs["data-lane"]: e.attrs["data-status"] for e in found if "lane" in e.classes}
    assert lanes == {
        "lint": "success",
        "test": "error",
        "build": "success",
        "docs": "skipped",
        "deliver": "skipped",
    }
    steps = {e.attrs["data-key"]: e for e in found if e.tag == "g" and "step" in e.classes}
    statuses = {key: e.attrs["data-status"] for key, e in steps.items()}
    assert statuses == {
        "lint/ruff": "success",
        "lint/mypy": "error",
        "test/unit": "error",
        "test/e2e": "skipped",
        f"build/{INJECTED}": "success",
        "docs/html": "skipped",
        "deliver/dist": "skipped",
    }
    assert steps["lint/mypy"].attrs["data-allowed"] == "true"
    assert steps["test/unit"].attrs["data-allowed"] == "false"
    assert "\u2717 error" in text_of(steps["test/unit"])  # a glyph and a word, not colour alone
    assert "! error (allowed)" in text_of(steps["lint/mypy"])
    bars = {e.attrs["class"] for e in found if e.tag == "rect" and "bar" in e.classes}
    assert {"bar s-err", "bar s-allowed", "bar s-ok", "bar s-skip"} <= bars
    arrows = {e.attrs["data-need"] for e in found if e.tag == "path" and "need" in e.classes}
    assert arrows == {"lint->build", "test->docs"}


def test_failed_steps_show_their_masked_tail(failed_run: tuple[Path, str, Done], dom: str) -> None:
    token = failed_run[1]
    found = elements(dom)
    failures = {e.attrs["data-key"]: text_of(e) for e in found if "failure" in e.classes}
    assert set(failures) == {"test/unit", "lint/mypy"}
    assert "FAILED test_x" in failures["test/unit"]
    assert "token=***" in failures["test/unit"]
    assert token not in failures["test/unit"]
    assert "exit code 1" in failures["test/unit"]


def test_user_text_is_shown_as_text_never_run(dom: str) -> None:
    assert "<script" not in dom.lower()
    assert "<b>bold</b>" not in dom
    found = elements(dom)
    texts = "\n".join(text_of(e) for e in found if e.tag in ("pre", "text"))
    assert "<script>alert(2)</script><b>bold</b>" in texts
    assert INJECTED in texts


def test_the_screenshot_is_a_picture(failed_run: tuple[Path, str, Done], chromium: Chromium) -> None:
    root, _, done = failed_run
    png = chromium.screenshot(root / done.stdout.strip(), root / "report.png", 1000, 700)
    image = read_png(png)
    assert (image.width, image.height) == (1000, 700)
    colours = Counter(image.pixels)
    assert len(colours) > 50
    assert colours.most_common(1)[0][1] < 0.8 * len(image.pixels)  # not one flat colour
    red, green = (207, 34, 46), (26, 127, 55)  # the error and success colours of the bars
    assert colours[red] > 200
    assert colours[green] > 200


def test_a_delivered_run_says_where_each_artifact_went(tmp_path: Path, chromium: Chromium) -> None:
    gryt_project = GrytProject(tmp_path / "project")
    gryt_project.write_file("dist/app-1.0.whl", "wheel")
    gryt_project.write_pipeline(
        "rel",
        '[[runners]]\nid = "b"\nsteps = [{ id = "s", cmd = ["true"] }]\n'
        '[[destinations]]\ntype = "directory"\nid = "out"\npath = "published"\n'
        '[artifacts]\npaths = ["dist/*.whl"]\n',
    )
    result = gryt_project.run("rel")
    assert result["status"] == "success"
    target = gryt_project.root / "rel.html"
    done = run_gryt("report", "last", "-o", str(target), cwd=gryt_project.root)
    assert done.code == 0, done.stderr
    assert done.stdout.strip() == "rel.html"
    found = elements(chromium.dump_dom(target))
    rows = [" ".join(text_of(e).split()) for e in found if e.tag == "tr"]
    assert any("dist/app-1.0.whl -> published/app-1.0.whl" in row and "success" in row for row in rows), rows
    lanes = {e.attrs["data-lane"]: e.attrs["data-status"] for e in found if "lane" in e.classes}
    assert lanes == {"b": "success", "deliver": "success"}


def test_cached_and_unknown_statuses_render(tmp_path: Path, chromium: Chromium) -> None:
    db = tmp_path / ".gryt" / "gryt.db"
    db.parent.mkdir()
    steps: list[StepSpec] = [
        ("hit", "cached", 0.01, {}),
        ("new", "<i>weird</i>", 0.5, {}),
        ("ok", "success", 0.2, {}),
    ]
    record_run(db, "run-cached", {"r": steps})
    done = run_gryt("report", "run-cached", cwd=tmp_path)
    assert done.code == 0, done.stderr
    found = elements(chromium.dump_dom(tmp_path / done.stdout.strip()))
    steps_by_key = {e.attrs["data-key"]: e for e in found if e.tag == "g" and "step" in e.classes}
    assert steps_by_key["r/hit"].attrs["data-status"] == "cached"
    assert "\u21bb cached" in text_of(steps_by_key["r/hit"])
    assert "? <i>weird</i>" in text_of(steps_by_key["r/new"])
    bars = [e.attrs["class"] for e in found if e.tag == "rect" and "bar" in e.classes]
    assert bars == ["bar s-cached", "bar s-other", "bar s-ok"]
