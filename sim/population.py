"""User traits and initial platform use, drawn from the run seed (docs/MODEL.md, 5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.config import Distribution, Scenario

__all__ = ["NEVER", "InitialState", "Traits", "UserState", "bits_dtype", "check_finite", "draw_traits", "initial_state",
           "pack",
           "sample", "unpack"]

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


def bits_dtype(n_platforms: int) -> type[np.unsignedinteger]:
    """The unsigned integer type that holds one bit per platform."""
    return np.uint8 if n_platforms <= 8 else np.uint16


def pack(active: np.ndarray) -> np.ndarray:
    """Bit sets over platforms (bit k: platform k) from bools (users x platforms)."""
    bits = np.zeros(len(active), dtype=bits_dtype(active.shape[1]))
    for k in range(active.shape[1]):
        bits |= active[:, k].astype(bits.dtype) << bits.dtype.type(k)
    return bits


def unpack(bits: np.ndarray, n_platforms: int) -> np.ndarray:
    """Bools (users x platforms) from bit sets over platforms."""
    return ((bits[:, None] >> np.arange(n_platforms, dtype=bits.dtype)) & 1).astype(bool)


class UserState(NamedTuple):
    """Every user's state as arrays in node order, as both engines report it (``user_state()``).

    ``uses`` (n,) unsigned: the platforms in use as bit sets (bit k: platform k; :attr:`active` gives them
    as bools); ``primary`` (n,) int: the main one; ``alarm`` (n,) float; ``heard`` (n,) int: day alarming
    news was last heard directly; ``ever`` (n,) unsigned: platforms ever used, as bit sets
    (:attr:`ever_active`); ``adoptions`` (n, K) int: adoption events per platform; ``salience`` (n,) float:
    the fast salience of news, empty when the scenario keeps none (``behaviour.salience = 0``).
    """

    uses: np.ndarray
    primary: np.ndarray
    alarm: np.ndarray
    heard: np.ndarray
    ever: np.ndarray
    adoptions: np.ndarray
    salience: np.ndarray = np.empty(0)

    @property
    def effective_alarm(self) -> np.ndarray:
        """The alarm decisions see: ``alarm`` with ``salience`` (``rules.effective_alarm``), or ``alarm``."""
        if len(self.salience) == 0:
            return self.alarm
        from sim.rules import effective_alarm  # loaded with the engines, not with the state

        # The rule's Python source, on whole arrays (its compiled form takes numbers).
        return getattr(effective_alarm, "py_func", effective_alarm)(self.alarm, self.salience)

    @property
    def active(self) -> np.ndarray:
        """Platforms in use, users x platforms, as bools."""
        return unpack(self.uses, self.adoptions.shape[1])

    @property
    def ever_active(self) -> np.ndarray:
        """Platforms ever used, users x platforms, as bools."""
        return unpack(self.ever, self.adoptions.shape[1])


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


def check_finite(scenario: Scenario, traits: Traits) -> None:
    """Refuse (FloatingPointError) a run whose traits, or the utilities they enter, are not finite numbers,
    before the initial state is computed: such a run's numbers would mean nothing. The configuration's ranges
    (docs/CONFIG.md) keep a validated scenario finite; this also covers scenarios built in code. Checked once at
    set-up: a bound of every utility (each term at its largest, the appeals after every event) must be finite,
    and the day loop then needs no check of its own."""
    bad = [name for name in ("concern", "attention", "inertia", "threshold", "taste")
           if not np.isfinite(getattr(traits, name)).all()]
    if bad:
        sd = f" (population.taste_sd = {scenario.population.taste_sd:g})" if "taste" in bad else ""
        raise FloatingPointError(f"set-up: the users' {', '.join(bad)} are not all finite numbers{sd}; the "
                                 "scenario's parameters leave the ranges of docs/CONFIG.md")
    b = scenario.behaviour
    appeal = max(abs(p.appeal) for p in scenario.platforms) + sum(abs(e.appeal_gain) for e in scenario.events)
    terms = {"b_net": b.b_net, "b_pull": b.b_pull, "b_priv": b.b_priv, "b_push": b.b_push,
             "b_appeal * appeal": b.b_appeal * appeal, "taste": float(np.abs(traits.taste).max(initial=0.0)),
             "inertia": float(np.abs(traits.inertia).max(initial=0.0)), "habit": b.habit, "band": b.band,
             "exit_level": abs(b.exit_level),
             "severity": max((e.severity for e in scenario.events if e.kind == "outage"), default=0.0)}
    with np.errstate(over="ignore", invalid="ignore"):
        bound = float(np.sum(np.fromiter(terms.values(), dtype=np.float64)))
    if not np.isfinite(bound):
        big = max(terms, key=lambda k: abs(terms[k]) if np.isfinite(terms[k]) else np.inf)
        raise FloatingPointError(f"set-up: the users' utilities are not finite numbers ({big} reaches "
                                 f"{terms[big]:g}); the scenario's parameters leave the ranges of docs/CONFIG.md")


def _largest(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` largest values, ties going to the lower index: the set
    ``np.argsort(-values, kind="stable")[:count]`` gives, found in linear time."""
    neg = -values
    if count >= len(neg):
        return np.arange(len(neg))
    cut = np.partition(neg, count - 1)[count - 1]
    above = np.flatnonzero(neg < cut)
    return np.concatenate([above, np.flatnonzero(neg == cut)[:count - len(above)]])


def _best(gaps: dict[int, np.ndarray], users: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
    """For each of ``users``, the rival with the highest gap (the first on ties), among the rivals ``allowed``
    (bool, users x platforms) if given."""
    best = np.full(len(users), -1, dtype=np.int64)
    top = np.full(len(users), -np.inf)
    for k, gap in gaps.items():
        g = gap[users] if allowed is None else np.where(allowed[users, k], gap[users], -np.inf)
        better = g > top
        best[better], top[better] = k, g[better]
    return best


def initial_state(scenario: Scenario, traits: Traits, rng: np.random.Generator) -> InitialState:
    """Day-0 platform use.

    - The incumbent's users are a random ``initial_share`` of users.
    - Each rival's base users are the ``initial_share`` of users with the highest switching gap at the
      resting alarm and no contacts on it (X_k - kappa with f_k = 0): taste plus concern, so the base is
      stable under the rule.
    - Users left with no platform use their best-scoring rival.
    - ``seed_adopters`` random users are put on the first rival.
    - Primary: the incumbent for its users, else the best-scoring active rival. Alarm rests at r_base * c.

    Computed one platform at a time, so that the temporaries are arrays over users, not users x platforms
    (at 35 million users the difference is gigabytes).
    """
    n, b = scenario.population.n, scenario.behaviour
    inc, rivals = scenario.incumbent, scenario.rivals
    c = traits.concern
    alarm = b.r_base * c
    risk_incumbent = alarm * scenario.platforms[inc].exposure
    gaps = {k: (b.b_push * c * (risk_incumbent - alarm * scenario.platforms[k].exposure)
                + b.b_appeal * scenario.platforms[k].appeal + traits.taste[:, k] - traits.inertia)
            for k in rivals}

    active = np.zeros((n, len(scenario.platforms)), dtype=bool)
    active[rng.permutation(n)[:round(scenario.platforms[inc].initial_share * n)], inc] = True
    for k in rivals:
        count = round(scenario.platforms[k].initial_share * n)
        if count:
            active[_largest(gaps[k], count), k] = True
    nowhere = np.flatnonzero(~active.any(axis=1))
    active[nowhere, _best(gaps, nowhere)] = True
    if scenario.population.seed_adopters:
        active[rng.permutation(n)[:scenario.population.seed_adopters], rivals[0]] = True

    primary = np.full(n, inc, dtype=np.int8)
    off = np.flatnonzero(~active[:, inc])
    primary[off] = _best(gaps, off, active)
    return InitialState(active=active, primary=primary, alarm=alarm, heard=np.full(n, NEVER, dtype=np.int32))
