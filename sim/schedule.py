"""The day's schedule, written once for both engines (docs/MODEL.md, 3).

Each day: (1) events due today act; (2) word of mouth carries fresh news; (3) alarm decays toward its resting
level; (4) users decide, all from yesterday's platform use (synchronous update); (5) the day is observed.
Random numbers are drawn at model level in a fixed order: one uniform array over users for each news event on
each of its coverage days (in timeline order), then one users x platforms array for the decisions.
"""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod

import numpy as np
import pandas as pd

from sim import metrics
from sim.config import Scenario
from sim.events import Timeline
from sim.network import SocialGraph
from sim.platforms import PlatformState
from sim.population import Traits
from sim.world import World

__all__ = ["DailyCycle"]


class DailyCycle(ABC):
    """Mixin holding the schedule and the observations; the engines supply the per-phase mechanics."""

    config: Scenario
    graph: SocialGraph
    traits: Traits
    platforms: PlatformState
    timeline: Timeline
    dynamics: np.random.Generator
    day: int
    records: list[dict[str, float]]

    def setup_common(self, scenario: Scenario, world: World) -> None:
        """The state both engines share: config, graph, traits, platforms, timeline, daily stream, records."""
        self.config = scenario
        self.graph = world.graph
        self.traits = world.traits
        self.platforms = PlatformState(scenario)
        self.timeline = Timeline(scenario.events)
        self.dynamics = np.random.default_rng(world.streams.dynamics)
        self.day = 0
        self.records = []

    @property
    def n(self) -> int:
        return self.graph.n

    def advance_day(self) -> None:
        """Run one day of the schedule."""
        day = self.day + 1
        self.timeline.act(self, day, self.dynamics)
        u = self.dynamics.random((self.n, len(self.platforms.names)))
        self.spread_word_of_mouth(day)
        self.forget()
        self.decide(u)
        self.day = day
        self.record()

    def record(self) -> None:
        """Observe today's state (one row of the time series)."""
        active, primary, alarm, ever, adoptions = self.state_arrays()
        self.records.append(metrics.observe(self.day, self.platforms.names, self.platforms.incumbent,
                                            active, primary, alarm, ever, adoptions))

    def timeseries(self) -> pd.DataFrame:
        """All observed days so far, one row per day (day 0 = the initial state)."""
        return pd.DataFrame.from_records(self.records)

    @property
    def date(self) -> datetime.date | None:
        """Calendar date of the current day, if the scenario has a start date."""
        start = self.config.experiment.start_date
        return datetime.date.fromisoformat(start) + datetime.timedelta(days=self.day) if start else None

    # The engine-specific mechanics ---------------------------------------------------------------------
    @abstractmethod
    def raise_alarm(self, hearers: np.ndarray, intensity: float, day: int) -> None:
        """Alarming news heard directly by ``hearers`` (bool over users) on ``day``."""

    @abstractmethod
    def calm_alarm(self, hearers: np.ndarray, credibility: float) -> None:
        """Calming news heard directly by ``hearers``."""

    @abstractmethod
    def spread_word_of_mouth(self, day: int) -> None:
        """Raise alarm by the share of contacts who heard alarming news in the last ``buzz_days``."""

    @abstractmethod
    def forget(self) -> None:
        """Decay alarm toward its resting level."""

    @abstractmethod
    def decide(self, u: np.ndarray) -> None:
        """Apply the decision rule to every user, from yesterday's platform use."""

    @abstractmethod
    def state_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(active, primary, alarm, ever active, adoption counts) as arrays over users, in node order."""
