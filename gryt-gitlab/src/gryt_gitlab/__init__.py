"""gryt plugin: GitLab CI. `gryt ci gitlab` writes `.gitlab-ci.yml` (one job per runner, a final merge and
delivery job); inside GitLab CI each step's output is a collapsible section and the run ends with a summary."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
