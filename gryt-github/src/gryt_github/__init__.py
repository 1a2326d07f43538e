"""gryt plugin for GitHub: the `gryt ci github` workflow generator, GitHub Actions log integration
(groups, annotations, job summary, outputs) and the `github-release` destination."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
