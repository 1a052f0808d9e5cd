"""Platform state during a run: the objective facts events change (exposure, appeal, outages)."""

from __future__ import annotations

import numpy as np

from sim.config import Scenario

__all__ = ["PlatformState"]


class PlatformState:
    """Per-platform ``exposure`` and ``appeal`` (arrays over platforms, in config order) and the current
    ``disruption`` (push away from the incumbent while it is down). One per run; events mutate it in place."""

    def __init__(self, scenario: Scenario) -> None:
        self.names = scenario.platform_names
        self.incumbent = scenario.incumbent
        self.rivals = scenario.rivals
        self.domestic = np.array([p.domestic for p in scenario.platforms])
        #: Row 0: exposure, row 1: appeal (one array, as the rules take them); ``exposure`` and ``appeal``
        #: are views of its rows.
        self.table = np.array([[p.exposure for p in scenario.platforms], [p.appeal for p in scenario.platforms]],
                              dtype=np.float64)
        self.exposure, self.appeal = self.table[0], self.table[1]
        self.disruption = 0.0

    def index(self, name: str) -> int:
        return self.names.index(name)

    def scale_exposure(self, k: int, factor: float) -> None:
        self.exposure[k] = min(1.0, self.exposure[k] * factor)

    def set_exposure(self, k: int, value: float) -> None:
        self.exposure[k] = value

    def add_appeal(self, k: int, gain: float) -> None:
        self.appeal[k] += gain
