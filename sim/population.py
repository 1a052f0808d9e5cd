"""User traits and initial platform use, drawn from the run seed (docs/MODEL.md, 5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.config import Distribution, Scenario

__all__ = ["NEVER", "InitialState", "Traits", "UserState", "draw_traits", "initial_state", "sample"]

#: ``heard`` of a user who never heard news directly (far enough back never to count as fresh).
NEVER = -(10**6)


def sample(d: Distribution, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` draws from ``d``, clipped to [d.low, d.high]."""
    match d.dist:
        case "beta":
            x = rng.beta(d.a, d.b, size)
        case "normal":
            x = rng.normal(d.mean, d.sd, size)
        case "uniform":
            x = rng.uniform(d.low, d.high, size)
        case "fixed":
            x = np.full(size, d.value)
    return np.clip(x, d.low, d.high)


class Traits(NamedTuple):
    """Fixed per-user traits (arrays over users; ``taste`` is users x platforms). A named tuple, so that the
    compiled loops take it whole."""

    engaged: np.ndarray
    concern: np.ndarray
    attention: np.ndarray
    inertia: np.ndarray
    threshold: np.ndarray
    taste: np.ndarray


class UserState(NamedTuple):
    """Every user's state as arrays in node order, as both engines report it (``user_state()``).

    ``active`` (n, K) bool: platforms used; ``primary`` (n,) int: the main one; ``alarm`` (n,) float;
    ``heard`` (n,) int: day alarming news was last heard directly; ``ever`` (n, K) bool: ever active;
    ``adoptions`` (n, K) int: adoption events.
    """

    active: np.ndarray
    primary: np.ndarray
    alarm: np.ndarray
    heard: np.ndarray
    ever: np.ndarray
    adoptions: np.ndarray


@dataclass
class InitialState:
    """Day-0 state: active platforms, primary, alarm, day last heard news directly."""

    active: np.ndarray
    primary: np.ndarray
    alarm: np.ndarray
    heard: np.ndarray


def draw_traits(scenario: Scenario, engaged: np.ndarray | None, rng: np.random.Generator) -> Traits:
    """Draw every user's traits. The engaged segment is the generator's community if it has one, else a
    random subset of size ``engaged.share * n``."""
    pop, n = scenario.population, scenario.population.n
    if engaged is None:
        engaged = np.zeros(n, dtype=bool)
        engaged[rng.permutation(n)[:round(pop.engaged.share * n)]] = True
    concern = np.where(engaged, sample(pop.engaged.concern, n, rng), sample(pop.concern, n, rng))
    attention = np.where(engaged, sample(pop.engaged.attention, n, rng), sample(pop.attention, n, rng))
    inertia = sample(pop.inertia, n, rng)
    threshold = sample(pop.threshold, n, rng)
    taste = rng.normal(0.0, pop.taste_sd, (n, len(scenario.platforms)))
    return Traits(engaged=engaged, concern=concern, attention=attention, inertia=inertia,
                  threshold=threshold, taste=taste)


def initial_state(scenario: Scenario, traits: Traits, rng: np.random.Generator) -> InitialState:
    """Day-0 platform use.

    - The incumbent's users are a random ``initial_share`` of users.
    - Each rival's base users are the ``initial_share`` of users with the highest switching gap at the
      resting alarm and no contacts on it (X_k - kappa with f_k = 0): taste plus concern, so the base is
      stable under the rule.
    - Users left with no platform use their best-scoring rival.
    - ``seed_adopters`` random users are put on the first rival.
    - Primary: the incumbent for its users, else the best-scoring active rival. Alarm rests at r_base * c.
    """
    n, b = scenario.population.n, scenario.behaviour
    inc, rivals = scenario.incumbent, scenario.rivals
    exposure = np.array([p.exposure for p in scenario.platforms])
    appeal = np.array([p.appeal for p in scenario.platforms])
    alarm = b.r_base * traits.concern
    risk = alarm[:, None] * exposure
    gap = (b.b_push * traits.concern[:, None] * (risk[:, [inc]] - risk) + b.b_appeal * appeal + traits.taste
           - traits.inertia[:, None])

    active = np.zeros((n, len(scenario.platforms)), dtype=bool)
    active[rng.permutation(n)[:round(scenario.platforms[inc].initial_share * n)], inc] = True
    for k in rivals:
        count = round(scenario.platforms[k].initial_share * n)
        if count:
            active[np.argsort(-gap[:, k], kind="stable")[:count], k] = True
    rival_gap = np.where(np.isin(np.arange(active.shape[1]), rivals), gap, -np.inf)
    nowhere = ~active.any(axis=1)
    active[nowhere, np.argmax(rival_gap[nowhere], axis=1)] = True
    if scenario.population.seed_adopters:
        active[rng.permutation(n)[:scenario.population.seed_adopters], rivals[0]] = True

    primary = np.where(active[:, inc], inc, np.argmax(np.where(active, rival_gap, -np.inf), axis=1))
    return InitialState(active=active, primary=primary.astype(np.int8), alarm=alarm,
                        heard=np.full(n, NEVER, dtype=np.int32))

