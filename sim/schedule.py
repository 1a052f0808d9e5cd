"""The day's schedule, written once for both engines (docs/MODEL.md, 3).

Each day: (1) events due today act; (2) word of mouth carries fresh news; (3) alarm decays toward its resting
level; (4) users decide, all from yesterday's platform use (synchronous update); (5) the day is observed.
Phases 2-4 are each user's own (:meth:`DailyCycle.update_users`): the engines apply the same rules
(sim/rules.py), the Mesa engine agent by agent, the array engine in compiled loops over users.
Random numbers are drawn at model level in a fixed order: one uniform array over users for each news event on
each of its coverage days (in timeline order; a promotion draws a second one for its installs), then one
users x platforms array for the decisions.
"""

from __future__ import annotations

import datetime
import math
from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np
import pandas as pd

from sim import metrics
from sim.config import Scenario
from sim.dates import date_of
from sim.events import Timeline
from sim.network import SocialGraph
from sim.platforms import PlatformState
from sim.population import NEVER, Traits, UserState
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
    uses: np.ndarray
    #: Day each user last stopped using each platform (users x platforms), kept when the scenario observes
    #: 30-day active users (``monthly.p`` in its ``[observed]`` expressions); else None.
    left: np.ndarray | None
    #: Threads of the compiled loops (the array engine may use more than one).
    threads: int = 1

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
        #: Changes of primary platform so far, over all users (observation only).
        self.flips = 0
        #: The engaged segment's users (indices), whose platform use the time series reports apart.
        self.engaged_users = np.flatnonzero(world.traits.engaged)
        from sim.episode import reads_monthly  # the expressions' parser: only needed here

        k = len(scenario.platforms)
        self.left = np.full((world.graph.n, k), NEVER, dtype=np.int32) if reads_monthly(scenario) else None

    @abstractmethod
    def step(self) -> None:
        """One day (:meth:`advance_day`, plus what the engine does around it)."""

    @property
    def n(self) -> int:
        return self.graph.n

    def advance_day(self) -> None:
        """Run one day of the schedule."""
        day = self.day + 1
        self.timeline.act(self, day, self.dynamics)
        u = self.draw_uniforms()
        before = self.uses.copy() if self.left is not None else None
        self.flips += self.update_users(day, u)
        if self.left is not None:
            metrics.note_drops(before, self.uses, self.left, day)
        self.day = day
        self.record()

    def run(self, steps: int | None = None, progress: Callable[[int], None] | None = None) -> pd.DataFrame:
        """Run ``steps`` more days (default: the scenario's ``experiment.steps``) and return the time series.
        ``progress`` is called with the number of days done after each day."""
        for done in range(1, (self.config.experiment.steps if steps is None else steps) + 1):
            self.step()
            if progress is not None:
                progress(done)
        return self.timeseries()

    def draw_uniforms(self) -> np.ndarray:
        """The day's uniform draws for the decisions: users x platforms, from the dynamics stream."""
        return self.dynamics.random((self.n, len(self.platforms.names)))

    def record(self) -> None:
        """Observe today's state (one row of the time series)."""
        state = self.user_state()
        counts = self.observation_counts(state)
        row = metrics.observe(self.day, self.platforms.names, self.platforms.incumbent, counts, state.effective_alarm)
        if len(state.salience):
            row["mean_salience"] = float(np.mean(state.salience))
        if self.left is not None:
            row |= metrics.monthly_shares(self.day, self.platforms.names, self.uses, self.left)
        row["primary_flips"] = self.flips / len(state.uses)
        if 0 < len(self.engaged_users) < self.n:
            row |= metrics.segment_shares(self.platforms.names, self.uses[self.engaged_users], counts, self.n)
        broken = [key for key, value in row.items() if not math.isfinite(value)]
        if broken:
            raise FloatingPointError(f"day {self.day}: {', '.join(broken)} is not a finite number; the users' "
                                     "state has left the numbers (check the scenario's parameters)")
        self.records.append(row)

    def observation_counts(self, state: UserState | None = None) -> np.ndarray:
        """Today's counts over users (:func:`sim.metrics.count_state`), from ``state`` if given (today's
        :meth:`user_state`, which the Mesa engine builds agent by agent)."""
        return metrics.count_state(self.user_state() if state is None else state, self.platforms.incumbent)

    def timeseries(self) -> pd.DataFrame:
        """All observed days so far, one row per day (day 0 = the initial state)."""
        return pd.DataFrame.from_records(self.records)

    @property
    def date(self) -> datetime.date | None:
        """Calendar date of the current day, if the scenario has a start date."""
        return date_of(self.config.experiment.start_date, self.day)

    # The engine-specific mechanics ---------------------------------------------------------------------
    @abstractmethod
    def raise_alarm(self, hearers: np.ndarray, intensity: float, day: int) -> None:
        """Alarming news heard directly by ``hearers`` (bool over users) on ``day``."""

    @abstractmethod
    def calm_alarm(self, hearers: np.ndarray, credibility: float) -> None:
        """Calming news heard directly by ``hearers``."""

    @abstractmethod
    def install(self, users: np.ndarray, k: int) -> None:
        """``users`` (bool over users) start using platform k (a promotion), if not already on it: an
        adoption of k, the primary unchanged (k for a user on no platform)."""

    @abstractmethod
    def update_users(self, day: int, u: np.ndarray) -> int:
        """Every user's day after the events: word of mouth (share of contacts who heard alarming news in
        the last ``buzz_days``), forgetting, then the decisions from yesterday's platform use, with the
        day's uniforms ``u`` (users x platforms). Returns how many users' primary changed."""

    @abstractmethod
    def user_state(self) -> UserState:
        """Every user's state as arrays in node order."""
