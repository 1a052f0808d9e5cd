"""The array engine's day, as compiled loops over users that call the rules of :mod:`sim.rules`.

Each phase is one fused loop: a user's inputs are read once, its rules are applied (inlined by the compiler)
and its new state written, with no users x platforms temporaries. After the events, a day is two loops:
:func:`encode_block` (the flags the neighbour counts are taken of) and :func:`day_block` (word of mouth,
forgetting and decisions: ``rules.user_day``). A phase is written for a block of users
``[lo, hi)``; ``*_blocks`` drivers run the blocks of :func:`block_bounds` on all threads (``prange``), the
engine calls a block function over all users when it runs on one thread. Each user's result depends only on
its own inputs and the day's neighbour counts, so blocks and threads change no number.

Flags for the neighbour counts (:mod:`sim.counts`): flag 0 is "heard alarming news directly in the last
``buzz_days`` days", flag 1 + k "active on platform k".
"""

from __future__ import annotations

import numpy as np
from numba import prange

from sim import rules
from sim.counts import contact_count
from sim.jit import jit
from sim.metrics import tally

__all__ = ["BLOCK_USERS", "block_bounds", "day_block", "day_blocks", "encode_block", "encode_blocks",
           "hear_alarming_news", "hear_calming_news", "hear_salient_news"]

#: Users per block of the parallel drivers.
BLOCK_USERS = 1 << 14


def block_bounds(n: int, size: int | None = None) -> np.ndarray:
    """Block boundaries ``0, size, 2 size, ..., n`` (int64; size :data:`BLOCK_USERS` by default)."""
    return np.append(np.arange(0, n, size or BLOCK_USERS, dtype=np.int64), np.int64(n))


def hear_alarming_news(hearers, intensity, day, alarm, heard):
    """Hearers of alarming news: ``alarm_after_news`` and ``heard <- day`` (MODEL.md 7.1)."""
    for i in range(len(hearers)):
        if hearers[i]:
            alarm[i] = rules.alarm_after_news(alarm[i], intensity)
            heard[i] = day


def hear_salient_news(hearers, intensity, salience):
    """Hearers of alarming news, their fast salience: ``alarm_after_news`` with the salient share of the
    intensity (MODEL.md 7.1)."""
    for i in range(len(hearers)):
        if hearers[i]:
            salience[i] = rules.alarm_after_news(salience[i], intensity)


def hear_calming_news(hearers, credibility, alarm):
    """Hearers of calming news: ``alarm_after_calming_news`` (MODEL.md 7.1)."""
    for i in range(len(hearers)):
        if hearers[i]:
            alarm[i] = rules.alarm_after_calming_news(alarm[i], credibility)


def encode_block(lo, hi, day, buzz_days, heard, uses, codes):
    """Users' flags as codes: bit 0 = fresh news (``day - heard < buzz_days``), bit 1 + k = active on k."""
    for i in range(lo, hi):
        codes[i] = (1 if day - heard[i] < buzz_days else 0) | (uses[i] << 1)


def encode_blocks(bounds, day, buzz_days, heard, uses, codes):
    for j in prange(len(bounds) - 1):
        encode_block(bounds[j], bounds[j + 1], day, buzz_days, heard, uses, codes)


def day_block(lo, hi, rule, b, platforms, incumbent, traits, alarm, salience, uses, primary, contacts, u,
              disruption, fresh_total, codes, next_uses, next_primary, ever, adoptions, counts, change):
    """Every user's day after the events (``rules.user_day``), from the contacts counted this morning:
    alarm is updated in place, and salience if kept (``salience`` is empty when the scenario's is 0);
    tomorrow's platform use (bit sets) and primary go to ``next_uses`` and ``next_primary``; ``ever`` (bit
    sets) and ``adoptions`` (adoption events per platform) are updated in place, and the change of the day's
    observation counts (``metrics.tally`` of the users who changed) is added to ``change``. ``counts`` is
    room for one user's contacts per platform (int64). Word of mouth comes from a user's contacts, or with
    ``fresh_total`` >= 0 from the whole population: the ``fresh_total`` users with fresh news less the user
    itself (bit 0 of its ``codes``) among the ``n - 1`` others."""
    n_platforms = len(counts)
    everyone = len(codes) - 1
    for i in range(lo, hi):
        for k in range(n_platforms):
            counts[k] = contact_count(contacts, i, 1 + k)
        old, old_primary = int(uses[i]), int(primary[i])
        kept = len(salience) > 0
        if fresh_total >= 0:
            fresh, listeners = fresh_total - (codes[i] & 1), everyone
        else:
            fresh, listeners = contact_count(contacts, i, 0), contacts.degree[i]
        alarm[i], s, new, p, adopted = rules.user_day(
            rule, b, platforms, incumbent, traits.concern[i], traits.inertia[i], traits.threshold[i],
            traits.taste[i], counts, contacts.degree[i], alarm[i], salience[i] if kept else 0.0, fresh, listeners,
            old, old_primary, u, i, disruption)
        if kept:
            salience[i] = s
        next_uses[i], next_primary[i] = new, p
        if new != old or p != old_primary:
            tally(change, old, int(ever[i]), old_primary, incumbent, n_platforms, -1)
            ever[i] |= new
            tally(change, new, int(ever[i]), p, incumbent, n_platforms, 1)
        while adopted:
            k = 0
            while not (adopted >> k) & 1:
                k += 1
            adoptions[i, k] += 1
            change[3 * n_platforms + k] += 1
            adopted &= ~(1 << k)


def day_blocks(bounds, rule, b, platforms, incumbent, traits, alarm, salience, uses, primary, contacts, u,
               disruption, fresh_total, codes, next_uses, next_primary, ever, adoptions, counts, change):
    """:func:`day_block` on each block of users on all threads (``counts``, ``change``: a row per block)."""
    for j in prange(len(bounds) - 1):
        day_block(bounds[j], bounds[j + 1], rule, b, platforms, incumbent, traits, alarm, salience, uses, primary,
                  contacts, u, disruption, fresh_total, codes, next_uses, next_primary, ever, adoptions, counts[j],
                  change[j])


hear_alarming_news = jit(hear_alarming_news)
hear_calming_news = jit(hear_calming_news)
hear_salient_news = jit(hear_salient_news)
encode_block = jit(encode_block)
encode_blocks = jit(encode_blocks, parallel=True)
day_block = jit(day_block)
day_blocks = jit(day_blocks, parallel=True)
