"""MessengerModel: the Mesa engine (the readable reference; used by the browser page and for N up to ~10^5)."""

from __future__ import annotations

import numpy as np
from mesa import DataCollector, Model
from mesa.discrete_space import Network

from sim.agents import UserAgent
from sim.config import Scenario
from sim.network import MAX_COMPLETE_GRAPH_NODES, SocialGraph
from sim.schedule import DailyCycle
from sim.world import Seed, build_world

__all__ = ["MessengerModel"]


class MessengerModel(DailyCycle, Model):
    """Users on a social graph choosing messengers as surveillance news arrives.

    ``rng`` is the run seed (an int or a ``numpy.random.SeedSequence``); the graph, traits, initial state and
    every daily draw derive from it (see :mod:`sim.world`). ``graph`` reuses a prebuilt graph. The
    ``datacollector`` holds one row per day with the time-series columns of :func:`sim.simulate`.
    """

    def __init__(self, scenario: Scenario, rng: Seed | None = None, graph: SocialGraph | None = None) -> None:
        seed = scenario.experiment.seed if rng is None else rng
        world = build_world(scenario, seed, graph)
        super().__init__(rng=world.streams.mesa)
        if world.graph.complete and world.graph.n > MAX_COMPLETE_GRAPH_NODES:
            raise ValueError(f"the Mesa engine draws complete graphs up to {MAX_COMPLETE_GRAPH_NODES} users; "
                             "use engine = 'array' (exact mean field) for more")
        self.setup_common(scenario, world)
        self.initial = world.initial

        self.grid = Network(self.graph.to_networkx(), capacity=1, random=self.random, layout=None)
        self.users = [UserAgent(self, self.grid[i], i) for i in range(self.graph.n)]
        for agent in self.users:
            agent.contacts = [self.users[j] for j in self.graph.neighbours(agent.node)]

        self.record()
        columns = list(self.records[-1])
        self.datacollector = DataCollector(
            model_reporters={c: (lambda m, c=c: m.records[-1][c]) for c in columns if c != "day"})
        self.datacollector.collect(self)

    def step(self) -> None:
        """One day."""
        self.advance_day()
        self.datacollector.collect(self)

    # Engine mechanics (see DailyCycle) -------------------------------------------------------------------
    def raise_alarm(self, hearers: np.ndarray, intensity: float, day: int) -> None:
        for i in np.flatnonzero(hearers):
            self.users[i].hear_alarming_news(intensity, day)

    def calm_alarm(self, hearers: np.ndarray, credibility: float) -> None:
        for i in np.flatnonzero(hearers):
            self.users[i].hear_calming_news(credibility)

    def spread_word_of_mouth(self, day: int) -> None:
        self.agents.do("listen", day)

    def forget(self) -> None:
        self.agents.do("forget")

    def decide(self, u: np.ndarray) -> None:
        self.agents.do("decide", u)
        self.agents.do("advance")

    def state_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        users = self.users
        return (np.array([a.active for a in users]), np.array([a.primary for a in users], dtype=np.int64),
                np.array([a.alarm for a in users], dtype=np.float64), np.array([a.ever for a in users]),
                np.array([a.adoptions for a in users]))
