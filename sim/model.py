"""MessengerModel: the Mesa engine (the readable reference; used by the browser page and for N up to ~10^5)."""

from __future__ import annotations

import numpy as np
from mesa import DataCollector, Model
from mesa.discrete_space import Network

from sim import footprint, rules
from sim.agents import UserAgent
from sim.config import Scenario
from sim.network import MAX_COMPLETE_GRAPH_NODES, SocialGraph
from sim.population import NEVER, UserState, pack
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
        footprint.require(scenario, "mesa")  # before anything is allocated
        seed = scenario.experiment.seed if rng is None else rng
        world = build_world(scenario, seed, graph)
        super().__init__(rng=world.streams.mesa)
        if world.graph.complete and world.graph.n > MAX_COMPLETE_GRAPH_NODES:
            raise ValueError(f"the Mesa engine draws complete graphs up to {MAX_COMPLETE_GRAPH_NODES} users; "
                             "use engine = 'array' (exact mean field) for more")
        self.setup_common(scenario, world)
        self.initial = world.initial
        self.rule, self.parameters = rules.RULE_IDS[scenario.behaviour.rule], rules.parameters(scenario.behaviour)
        #: Agents whose fresh news ends on a day: day -> agents (see UserAgent.end_buzz).
        self.buzz_ends: dict[int, list[UserAgent]] = {}
        #: Agents whose platform use or primary changes at the end of today.
        self.movers: list[UserAgent] = []

        # Arrays over users that the agents keep up to date (see UserAgent), so the model observes them all
        # at once: platform use and platforms ever used as bit sets, primary, the day news was last heard,
        # adoption events, contacts per platform.
        self.uses = pack(world.initial.active)
        self.ever = self.uses.copy()
        self.primary = world.initial.primary.astype(np.int64)
        self.heard = np.full(self.graph.n, NEVER, dtype=np.int64)
        self.adoptions = np.zeros(world.initial.active.shape, dtype=np.int64)
        self.contact_counts = self.graph.neighbour_counts(world.initial.active)

        self.grid = Network(self.graph.to_networkx(), capacity=1, random=self.random, layout=None)
        self.users = [UserAgent(self, self.grid[i], i) for i in range(self.graph.n)]
        for agent in self.users:
            agent.contacts = [self.users[j] for j in self.graph.neighbours(agent.node)]
            agent.degree = len(agent.contacts)

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

    def install(self, users: np.ndarray, k: int) -> None:
        for i in np.flatnonzero(users):
            self.users[i].install(k)

    def update_users(self, day: int, u: np.ndarray) -> int:
        for agent in self.buzz_ends.pop(day, ()):
            agent.end_buzz(day)
        # Word of mouth from the whole population (a null model): everyone hears from the fresh-news carriers.
        self.fresh_total = (sum(a.buzzing for a in self.users) if self.config.behaviour.word_of_mouth == "population"
                            else -1)
        self.agents.do("step", u)
        # Only users whose platform use or primary changes have anything to apply (synchronous update).
        movers, self.movers = self.movers, []
        flips = sum(agent.changes_primary() for agent in movers)
        for agent in movers:
            agent.advance()
        return flips

    def user_state(self) -> UserState:
        users, n = self.users, len(self.users)
        return UserState(uses=self.uses, primary=self.primary,
                         alarm=np.fromiter((a.alarm for a in users), np.float64, n), heard=self.heard, ever=self.ever,
                         adoptions=self.adoptions,
                         salience=(np.fromiter((a.salience for a in users), np.float64, n)
                                   if self.config.behaviour.salience > 0 else np.empty(0)))
