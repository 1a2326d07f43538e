"""A `.py` pipeline's own `sys.exit()` or `raise KeyboardInterrupt` is bad input (exit 2 naming the file
and line; see tests/bad_inputs/build_*.py), while a real Ctrl-C during its import stays an interrupt."""

from __future__ import annotations

import signal

from .harness import Project

SLOW_IMPORT = """\
import time
from pathlib import Path

Path(__file__).with_name("loading").write_text("")
time.sleep(60)
"""


def test_a_real_ctrl_c_while_a_pipeline_file_loads_is_an_interrupt(project: Project) -> None:
    project.write_pipeline("slow.py", SLOW_IMPORT)
    proc = project.spawn("run", "slow")
    project.wait_for_file(".gryt/pipelines/loading")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    out, err = project.output(proc)
    assert "Traceback" not in out + err
    assert err.strip() == "gryt: interrupted", err
    assert project.runs() == []
