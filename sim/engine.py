"""ArrayModel: the array engine. The same state as numpy arrays, the same schedule (sim/schedule.py), the
same rules (sim/rules.py) and the same random draws as the Mesa engine, so trajectories are identical.

Built for the full population (35 million users, docs/PERFORMANCE.md):

- Each phase of the day is one compiled loop over users (:mod:`sim.loops`) calling the rules, with no
  users x platforms float temporaries; from :data:`PARALLEL_MIN_USERS` users on, the loops run per block of
  users on all cores.
- Neighbour counts of the day (contacts with fresh news, contacts on each platform) come from one
  :class:`~sim.counts.ContactCounts`, counted in full on news days and otherwise updated only around the
  users whose state changed.
- State is kept in compact dtypes: platform use (``uses``) and platforms ever used (``ever``) as one bit set
  per user (uint8 up to 8 platforms), int8 ``primary``, int32 ``heard``, uint16 ``adoptions``; alarm stays
  float64.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from sim import footprint, loops, metrics, rules
from sim.config import Scenario
from sim.counts import ContactCounts
from sim.jit import set_threads
from sim.network import SocialGraph
from sim.population import UserState, pack, unpack
from sim.schedule import DailyCycle
from sim.world import Seed, build_world

__all__ = ["PARALLEL_MIN_USERS", "ArrayModel", "default_threads", "fill_uniforms"]

#: Below this many users a run uses one thread by default (sweeps run one process per core instead).
PARALLEL_MIN_USERS = 1_000_000


def default_threads(n: int) -> int:
    """Threads for a run of ``n`` users: ``$SIM_THREADS`` if set, else all usable cores from
    :data:`PARALLEL_MIN_USERS` users on, else 1."""
    env = os.environ.get("SIM_THREADS")
    if env:
        return max(1, int(env))
    return len(os.sched_getaffinity(0)) if n >= PARALLEL_MIN_USERS else 1


def fill_uniforms(rng: np.random.Generator, out: np.ndarray, threads: int = 1) -> np.ndarray:
    """Fill ``out`` with ``rng.random`` numbers, exactly those one ``rng.random(out=out)`` call would give,
    and leave ``rng`` where that call would.

    With ``threads`` > 1 and numpy's default PCG64 generator, each thread fills one slice of ``out`` from a
    copy of the generator advanced to that slice's first draw (a PCG64 step makes one double; ``advance``
    jumps in logarithmic time), so the day's draws use every core and stay the same numbers.
    """
    bits = rng.bit_generator
    flat = out.reshape(-1)
    if threads < 2 or not isinstance(bits, np.random.PCG64) or bits.state["has_uint32"] or len(flat) < threads:
        return rng.random(out=out)
    cuts = [len(flat) * t // threads for t in range(threads + 1)]
    parts = []
    for lo in cuts[1:-1]:
        part = np.random.PCG64()
        part.state = bits.state
        part.advance(lo)
        parts.append(np.random.Generator(part))
    with ThreadPoolExecutor(threads - 1) as pool:  # numpy releases the GIL while it fills
        jobs = [pool.submit(g.random, out=flat[lo:hi])
                for g, lo, hi in zip(parts, cuts[1:-1], cuts[2:], strict=True)]
        rng.random(out=flat[:cuts[1]])
        for job in jobs:
            job.result()
    bits.advance(len(flat) - cuts[1])
    return out


class ArrayModel(DailyCycle):
    """Users as arrays over nodes; the adjacency as CSR. Same constructor and outputs as MessengerModel
    (``threads``: threads for the compiled loops, default :func:`default_threads`).

    With more than one thread, a model must not be stepped from two Python threads at once (numba's
    default threading layer does not allow concurrent parallel regions).
    """

    def __init__(self, scenario: Scenario, rng: Seed | None = None, graph: SocialGraph | None = None,
                 threads: int | None = None) -> None:
        footprint.require(scenario, "array")  # before anything is allocated
        seed = scenario.experiment.seed if rng is None else rng
        world = build_world(scenario, seed, graph)
        self.setup_common(scenario, world)
        n = self.graph.n
        self.threads = threads or default_threads(n)
        init = world.initial
        self.uses = pack(init.active)
        self.primary = init.primary.astype(np.int8)
        self.alarm = init.alarm.astype(np.float64)
        #: Fast salience of news, kept only when the scenario splits news between it and alarm.
        self.salience = np.zeros(n if scenario.behaviour.salience > 0 else 0)
        self.heard = init.heard.astype(np.int32)
        self.ever = self.uses.copy()
        self.adoptions = np.zeros(init.active.shape, dtype=np.uint16)  # at most one adoption a day
        self.bounds = loops.block_bounds(n)
        # Flag 0: heard news directly in the last buzz_days days; flag 1 + k: active on platform k.
        g = self.graph
        self.counter = ContactCounts(g.indptr, g.indices, 1 + init.active.shape[1], complete=g.complete, n=n,
                                     threads=self.threads)
        self.degree = self.counter.degree
        self._next_uses = np.empty_like(self.uses)
        self._next_primary = np.empty_like(self.primary)
        self._u = np.empty(init.active.shape)
        self._room = np.empty((len(self.bounds) - 1, init.active.shape[1]), dtype=np.int64)  # per block
        self._change = np.zeros((len(self.bounds) - 1, 4 * init.active.shape[1] + 4), dtype=np.int64)
        self._listed = np.empty((len(self.bounds) - 1, loops.CHUNK_USERS), dtype=np.int64)
        self._counted: np.ndarray | None = None  # the platform use the counts are of
        #: Running totals of the observation counts (metrics.count_state), updated by each day's changes.
        self.totals = metrics.count_state(self.user_state(), self.platforms.incumbent)
        self.record()

    @property
    def active(self) -> np.ndarray:
        """Platforms in use, users x platforms, as bools (unpacked from :attr:`uses`)."""
        return unpack(self.uses, self.adoptions.shape[1])

    def step(self) -> None:
        """One day."""
        self.advance_day()

    def draw_uniforms(self) -> np.ndarray:
        # Into one buffer reused every day: the same numbers as a fresh array, without touching new memory.
        return fill_uniforms(self.dynamics, self._u, self.threads)

    # Engine mechanics (see DailyCycle) -------------------------------------------------------------------
    def raise_alarm(self, hearers: np.ndarray, intensity: float, day: int) -> None:
        sigma = self.config.behaviour.salience
        loops.hear_alarming_news(hearers, intensity * (1.0 - sigma), day, self.alarm, self.heard)
        if len(self.salience):
            loops.hear_salient_news(hearers, intensity * sigma, self.salience)

    def calm_alarm(self, hearers: np.ndarray, credibility: float) -> None:
        loops.hear_calming_news(hearers, credibility, self.alarm)
        if len(self.salience):
            loops.hear_calming_news(hearers, credibility, self.salience)

    def install(self, users: np.ndarray, k: int) -> None:
        bit = self.uses.dtype.type(1 << k)
        new = users & ((self.uses & bit) == 0)
        if not new.any():
            return
        self.primary[new & (self.uses == 0)] = k
        self.uses[new] |= bit
        self.ever[new] |= bit
        if self.adoptions.dtype != np.int64:  # the day's own adoption may follow: room for one more per day
            self.adoptions = self.adoptions.astype(np.int64)
        self.adoptions[new, k] += 1
        self.totals = metrics.count_state(self.user_state(), self.platforms.incumbent)

    def _parallel(self) -> bool:
        if self.threads > 1:
            set_threads(self.threads)
            return True
        return False

    def count_contacts(self, day: int) -> None:
        """Count every user's contacts with fresh news on ``day`` and on each platform (today's use)."""
        codes = np.empty(self.n, dtype=self.counter.code_dtype)
        buzz = self.config.behaviour.buzz_days
        if self._parallel():
            loops.encode_blocks(self.bounds, day, buzz, self.heard, self.uses, codes)
        else:
            loops.encode_block(0, self.n, day, buzz, self.heard, self.uses, codes)
        self.counter.update(codes)
        self._counted = self.uses

    def update_users(self, day: int, u: np.ndarray) -> int:
        # Platform use does not change before the decisions, so one count serves word of mouth and decisions.
        self.count_contacts(day)
        self.decide(u)
        return int(np.count_nonzero(self.primary != self._next_primary))  # today's against yesterday's

    def decide(self, u: np.ndarray) -> None:
        """Every user's word of mouth, forgetting and decisions, from the contacts counted last (this
        morning's, within a day's schedule)."""
        if self._counted is not self.uses:  # called outside the day's schedule: count the current use
            self.count_contacts(self.day)
        if self.day + 1 > np.iinfo(self.adoptions.dtype).max:
            self.adoptions = self.adoptions.astype(np.int64)
        b, p = self.config.behaviour, self.platforms
        codes = self.counter.codes
        fresh_total = int(np.count_nonzero(codes & 1)) if b.word_of_mouth == "population" else -1
        args = (rules.RULE_IDS[b.rule], rules.parameters(b), p.table, p.incumbent, self.traits, self.alarm,
                self.salience, self.uses, self.primary, self.counter.contacts, u, p.disruption, fresh_total, codes,
                self._next_uses, self._next_primary, self.ever, self.adoptions)
        self._change[:] = 0
        if self._parallel():
            loops.day_blocks(self.bounds, *args, self._room, self._change, self._listed)
            self.totals += self._change.sum(axis=0)
        else:
            loops.day_block(0, self.n, *args, self._room[0], self._change[0], self._listed[0])
            self.totals += self._change[0]
        self.uses, self._next_uses = self._next_uses, self.uses
        self.primary, self._next_primary = self._next_primary, self.primary

    def observation_counts(self, state: UserState | None = None) -> np.ndarray:
        return self.totals.copy()

    def user_state(self) -> UserState:
        return UserState(uses=self.uses, primary=self.primary, alarm=self.alarm, heard=self.heard,
                         ever=self.ever, adoptions=self.adoptions, salience=self.salience)
