"""Shared fixtures: small scenarios built from plain dicts (no files), so each test states what it varies."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from sim.config import Scenario, apply_overrides, build_scenario

ROOT = Path(__file__).resolve().parent.parent

#: A small, fast scenario: 300 users on a small-world graph, an incumbent and two rivals, no events.
SMALL: dict[str, Any] = {
    "experiment": {"name": "small", "steps": 30, "seed": 7},
    "population": {"n": 300, "engaged": {"share": 0.1}},
    "network": {"kind": "watts_strogatz", "mean_degree": 6},
    "platforms": {
        "incumbent": {"incumbent": True, "domestic": True, "exposure": 0.8, "initial_share": 1.0},
        "rival": {"exposure": 0.05, "appeal": 0.05, "initial_share": 0.01},
        "other": {"exposure": 0.4, "appeal": 0.1, "initial_share": 0.03},
    },
    "behaviour": {},
    "events": [],
}


def small_scenario(overrides: dict[str, Any] | None = None, events: list[dict[str, Any]] | None = None,
                   base: dict[str, Any] | None = None, base_dir: str | Path = ".") -> Scenario:
    """The SMALL scenario with dotted-key ``overrides`` and the given ``events`` (files relative to
    ``base_dir``)."""
    data = copy.deepcopy(base or SMALL)
    if events is not None:
        data["events"] = events
    overrides = dict(overrides or {})
    if overrides.get("network.kind") in ("complete", "file") and "network.mean_degree" not in overrides:
        data["network"].pop("mean_degree", None)  # their contacts are not a mean degree
    return build_scenario(apply_overrides(data, overrides, "test"), "test", base_dir=base_dir)


@pytest.fixture
def small() -> Scenario:
    return small_scenario()
