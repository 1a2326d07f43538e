"""`gryt report`: a run's timeline, and a pipeline's step trend, as one self-contained HTML file each.

`timeline` and `trend` turn history rows into plain data; `gantt` and `charts` draw it as inline SVG;
`run_page` and `trend_page` lay it out on the page `page` provides (inline CSS, no script, no network).
"""
