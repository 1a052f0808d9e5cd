"""What both engines build from a scenario and a seed: random streams, graph, traits, initial state.

The run seed is split with ``numpy.random.SeedSequence`` into independent streams for the graph, the traits,
the initial platform use, the daily dynamics and Mesa's own generators, so that (for example) a change in the
graph generator does not change the traits drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import Scenario
from sim.network import SocialGraph, build_graph
from sim.population import InitialState, Traits, check_finite, draw_traits, initial_state

__all__ = ["Seed", "Streams", "World", "build_world", "streams"]

Seed = int | np.random.SeedSequence


@dataclass(frozen=True)
class Streams:
    """Independent seed sequences of one run."""

    graph: np.random.SeedSequence
    traits: np.random.SeedSequence
    initial: np.random.SeedSequence
    dynamics: np.random.SeedSequence
    mesa: np.random.SeedSequence


def streams(seed: Seed) -> Streams:
    """Split a run seed into its streams. Pure: the same seed always gives the same streams (a SeedSequence
    passed in is not advanced)."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
    children = [np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, i)) for i in range(5)]
    return Streams(*children)


@dataclass(frozen=True)
class World:
    """The built pieces of a run."""

    graph: SocialGraph
    traits: Traits
    initial: InitialState
    streams: Streams


def build_world(scenario: Scenario, seed: Seed, graph: SocialGraph | None = None) -> World:
    """Graph, traits and initial state for ``scenario`` from ``seed`` (``graph`` given: reuse it)."""
    s = streams(seed)
    if graph is None:
        graph = build_graph(scenario, np.random.default_rng(s.graph))
    traits = draw_traits(scenario, graph.engaged, np.random.default_rng(s.traits))
    check_finite(scenario, traits)
    init = initial_state(scenario, traits, np.random.default_rng(s.initial))
    return World(graph=graph, traits=traits, initial=init, streams=s)
