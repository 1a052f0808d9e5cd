"""ArrayModel: the array engine. The same state as numpy arrays, the same schedule (sim/schedule.py), the
same kernels (sim/rules.py) and the same random draws as the Mesa engine, so trajectories are identical."""

from __future__ import annotations

import numpy as np

from sim import rules
from sim.config import Scenario
from sim.events import Timeline
from sim.network import SocialGraph
from sim.platforms import PlatformState
from sim.schedule import DailyCycle
from sim.world import Seed, build_world

__all__ = ["ArrayModel"]


class ArrayModel(DailyCycle):
    """Users as arrays over nodes; the adjacency as CSR. Same constructor and outputs as MessengerModel."""

    def __init__(self, scenario: Scenario, rng: Seed | None = None, graph: SocialGraph | None = None) -> None:
        seed = scenario.experiment.seed if rng is None else rng
        world = build_world(scenario, seed, graph)
        self.config = scenario
        self.graph = world.graph
        self.traits = world.traits
        self.platforms = PlatformState(scenario)
        self.timeline = Timeline(scenario.events)
        self.dynamics = np.random.default_rng(world.streams.dynamics)
        self.day = 0
        self.records = []
        init = world.initial
        self.active = init.active.copy()
        self.primary = init.primary.astype(np.int64)
        self.alarm = init.alarm.copy()
        self.heard = init.heard.copy()
        self.ever = init.active.copy()
        self.adoptions = np.zeros(self.active.shape, dtype=np.int64)
        self.degree = self.graph.degree
        self.rest = scenario.behaviour.r_base * self.traits.concern
        self.record()

    def step(self) -> None:
        """One day."""
        self.advance_day()

    def raise_alarm(self, hearers: np.ndarray, intensity: float, day: int) -> None:
        self.alarm[hearers] = rules.alarm_after_news(self.alarm[hearers], intensity)
        self.heard[hearers] = day

    def calm_alarm(self, hearers: np.ndarray, credibility: float) -> None:
        self.alarm[hearers] = rules.alarm_after_calming_news(self.alarm[hearers], credibility)

    def spread_word_of_mouth(self, day: int) -> None:
        b = self.config.behaviour
        fresh = (day - self.heard) < b.buzz_days
        g = rules.contact_shares(self.graph.neighbour_counts(fresh[:, None])[:, 0], self.degree)
        self.alarm = rules.word_of_mouth(self.alarm, g, b.mu)

    def forget(self) -> None:
        self.alarm = rules.forget(self.alarm, self.rest, self.config.behaviour.delta)

    def decide(self, u: np.ndarray) -> None:
        t = self.traits
        x = rules.DecisionInputs(
            incumbent=self.platforms.incumbent, concern=t.concern, inertia=t.inertia, threshold=t.threshold,
            taste=t.taste, alarm=self.alarm, exposure=self.platforms.exposure, appeal=self.platforms.appeal,
            counts=self.graph.neighbour_counts(self.active), degree=self.degree, active=self.active,
            primary=self.primary, u=u, disruption=self.platforms.disruption)
        self.active, self.primary, adopted = rules.decide(self.config.behaviour, x)
        self.adoptions += adopted
        self.ever |= self.active

    def state_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.active, self.primary, self.alarm, self.ever, self.adoptions
