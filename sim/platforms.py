"""Platform state during a run: the objective facts events change (exposure, appeal, outages)."""

from __future__ import annotations

import numpy as np

from sim.config import Scenario
from sim.palette import label_for, platform_colours

__all__ = ["PlatformState"]


class PlatformState:
    """Per-platform ``exposure`` and ``appeal`` (arrays over platforms, in config order) and the current
    ``disruption`` (push away from the incumbent while it is down). One per run; events mutate it in place."""

    def __init__(self, scenario: Scenario) -> None:
        self.names = scenario.platform_names
        #: Display names and colours (sim.palette: the config's, else defaults), in config order.
        self.labels = tuple(label_for(p.name, p.label) for p in scenario.platforms)
        self.colours = tuple(platform_colours(self.names, [p.colour for p in scenario.platforms]))
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
