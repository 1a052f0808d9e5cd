"""ArrayModel: the array engine. The same state as numpy arrays, the same schedule (sim/schedule.py), the
same kernels (sim/rules.py) and the same random draws as the Mesa engine, so trajectories are identical.

Built for the full population (35 million users, docs/PERFORMANCE.md):

- State is kept in compact dtypes (bool ``active`` and ``ever``, int8 ``primary``, int32 ``heard``, uint16
  ``adoptions``); only alarm stays float64, because the kernels compute in float64.
- Neighbour counts of the day (contacts with fresh news, contacts on each platform) come from one
  :class:`~sim.largegraph.PackedCounts`, counted once a day and updated only around the users whose state
  changed.
- The kernels run on chunks of :data:`CHUNK_ROWS` users. They are row-wise, so chunking changes no number;
  it bounds the temporaries (a kernel makes dozens of users x platforms float64 arrays) and keeps them in
  cache. Chunks write disjoint slices, so they may run on a thread pool (numpy releases the GIL in its
  loops) without changing the result.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from sim import rules
from sim.config import Scenario
from sim.largegraph import PackedCounts, serial
from sim.network import SocialGraph
from sim.schedule import DailyCycle
from sim.world import Seed, build_world

__all__ = ["CHUNK_ROWS", "PARALLEL_MIN_USERS", "ArrayModel", "default_threads"]

#: Users per chunk of the kernels: a few MB of temporaries per chunk, small enough for the L2/L3 caches.
CHUNK_ROWS = 1 << 16
#: Below this many users a run uses one thread by default (sweeps run one process per core instead).
PARALLEL_MIN_USERS = 1_000_000


def default_threads(n: int) -> int:
    """Threads for a run of ``n`` users: ``$SIM_THREADS`` if set, else all usable cores from
    :data:`PARALLEL_MIN_USERS` users on, else 1."""
    env = os.environ.get("SIM_THREADS")
    if env:
        return max(1, int(env))
    return len(os.sched_getaffinity(0)) if n >= PARALLEL_MIN_USERS else 1


class ArrayModel(DailyCycle):
    """Users as arrays over nodes; the adjacency as CSR. Same constructor and outputs as MessengerModel
    (``threads``: worker threads for the chunks, default :func:`default_threads`)."""

    def __init__(self, scenario: Scenario, rng: Seed | None = None, graph: SocialGraph | None = None,
                 threads: int | None = None) -> None:
        seed = scenario.experiment.seed if rng is None else rng
        world = build_world(scenario, seed, graph)
        self.setup_common(scenario, world)
        n = self.graph.n
        self.threads = threads or default_threads(n)
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        init = world.initial
        self.active = init.active.copy()
        self.primary = init.primary.astype(np.int8)
        self.alarm = init.alarm.astype(np.float64)
        self.heard = init.heard.astype(np.int32)
        self.ever = init.active.copy()
        self.adoptions = np.zeros(self.active.shape, dtype=np.uint16)  # at most one adoption a day
        self.rest = scenario.behaviour.r_base * self.traits.concern
        self.chunks = [(lo, min(lo + CHUNK_ROWS, n)) for lo in range(0, n, CHUNK_ROWS)]
        # Flag 0: heard news directly in the last buzz_days days; flag 1 + k: active on platform k.
        self._counter = None if self.graph.complete else PackedCounts(
            self.graph.indptr, self.graph.indices, 1 + self.active.shape[1], self._map)
        self.degree = self.graph.degree.astype(np.int32) if self._counter is None else self._counter.degree
        self._flags: list[np.ndarray] = []
        self._totals = np.zeros(0, dtype=np.int64)
        self._counted_active: np.ndarray | None = None
        self.record()

    def step(self) -> None:
        """One day."""
        self.advance_day()

    # Chunks and neighbour counts -------------------------------------------------------------------------
    def _map(self, fn: Callable[[int, int], None], chunks: list[tuple[int, int]]) -> None:
        """Run ``fn(lo, hi)`` on each row range, on the thread pool if there is one."""
        if self._pool is None:
            serial(fn, chunks)
        else:
            for _ in self._pool.map(lambda c: fn(*c), chunks):
                pass  # iterating re-raises a worker's exception here

    def _count(self, fresh: np.ndarray) -> None:
        """Count every user's contacts with fresh news and on each platform (today's state of both)."""
        self._flags = [fresh, *(self.active[:, k] for k in range(self.active.shape[1]))]
        self._counted_active = self.active
        if self._counter is None:  # implicit complete graph: everyone else is a contact
            self._totals = np.array([np.count_nonzero(f) for f in self._flags], dtype=np.int64)
        else:
            self._counter.update(self._flags)

    def _contacts_with(self, flag: int, lo: int, hi: int) -> np.ndarray:
        """Users lo..hi-1's numbers of contacts with ``flag`` set (as of the last :meth:`_count`)."""
        if self._counter is None:
            return self._totals[flag] - self._flags[flag][lo:hi]
        return self._counter.counts(flag, lo, hi)

    # Engine mechanics (see DailyCycle) -------------------------------------------------------------------
    def raise_alarm(self, hearers: np.ndarray, intensity: float, day: int) -> None:
        self.alarm[hearers] = rules.alarm_after_news(self.alarm[hearers], intensity)
        self.heard[hearers] = day

    def calm_alarm(self, hearers: np.ndarray, credibility: float) -> None:
        self.alarm[hearers] = rules.alarm_after_calming_news(self.alarm[hearers], credibility)

    def spread_word_of_mouth(self, day: int) -> None:
        b = self.config.behaviour
        # Platform use does not change before the decisions, so one count serves both phases.
        self._count((day - self.heard) < b.buzz_days)

        def listen(lo: int, hi: int) -> None:
            g = rules.contact_shares(self._contacts_with(0, lo, hi), self.degree[lo:hi])
            self.alarm[lo:hi] = rules.word_of_mouth(self.alarm[lo:hi], g, b.mu)

        self._map(listen, self.chunks)

    def forget(self) -> None:
        delta = self.config.behaviour.delta

        def forget(lo: int, hi: int) -> None:
            self.alarm[lo:hi] = rules.forget(self.alarm[lo:hi], self.rest[lo:hi], delta)

        self._map(forget, self.chunks)

    def decide(self, u: np.ndarray) -> None:
        if self._counted_active is not self.active:  # decide() called outside the day's schedule
            self._count(self._flags[0] if self._flags else np.zeros(self.n, dtype=bool))
        if self.day + 1 > np.iinfo(self.adoptions.dtype).max:
            self.adoptions = self.adoptions.astype(np.int64)
        b, t, p = self.config.behaviour, self.traits, self.platforms
        n_platforms = self.active.shape[1]
        active, primary = np.empty_like(self.active), np.empty_like(self.primary)

        def decide(lo: int, hi: int) -> None:
            counts = np.stack([self._contacts_with(1 + k, lo, hi) for k in range(n_platforms)], axis=1)
            x = rules.DecisionInputs(
                incumbent=p.incumbent, concern=t.concern[lo:hi], inertia=t.inertia[lo:hi],
                threshold=t.threshold[lo:hi], taste=t.taste[lo:hi], alarm=self.alarm[lo:hi],
                exposure=p.exposure, appeal=p.appeal, counts=counts, degree=self.degree[lo:hi],
                active=self.active[lo:hi], primary=self.primary[lo:hi], u=u[lo:hi], disruption=p.disruption)
            active[lo:hi], primary[lo:hi], adopted = rules.decide(b, x)
            self.adoptions[lo:hi] += adopted
            self.ever[lo:hi] |= active[lo:hi]

        self._map(decide, self.chunks)
        self.active, self.primary = active, primary

    def state_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.active, self.primary, self.alarm, self.ever, self.adoptions
