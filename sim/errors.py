"""Errors about the user's input that the command line reports in one line (no engine needed to name them)."""

from __future__ import annotations

from sim.config.schema import ConfigError

__all__ = ["ConfigError", "ResultsError"]


class ResultsError(ValueError):
    """A folder that is not (or not this experiment's, or no longer a readable) results folder."""
