"""Python's cyclic garbage collector paused while the `gryt` command starts up (see `gryt.entry`).

Start-up (importing Typer, Rich and gryt, loading plugins and the pipeline) creates tens of thousands of
objects that live until the process exits; the collector, triggered every 700 allocations, walks them
again and again (about 60 collections, 5-10 ms of a `gryt run`) and finds next to nothing to free (a few
hundred objects of import-time cycles). So collection is paused until the command starts its own work
(for `gryt run`: the pipeline's execution, or loading it when it is Python, whose code is the user's);
`resume` first moves everything alive into the permanent generation (`gc.freeze`), so later collections
never walk start-up objects either (the few start-up cycles stay in memory).
"""

from __future__ import annotations

import gc

_paused = False
"""True while collection is paused by `pause` (never when the CLI runs inside another program)."""


def pause() -> None:
    """Pause collection for start-up, unless something else already switched it off."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """End the start-up pause (a no-op unless `pause` paused collection): freeze what start-up left, then
    collect as usual. Called when a command starts its work: a pipeline's execution, or any other command's
    body."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
