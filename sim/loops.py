"""The array engine's day, as compiled loops over users that call the rules of :mod:`sim.rules`.

Each phase is one fused loop: a user's inputs are read once, its rules are applied (inlined by the compiler)
and its new state written, with no users x platforms temporaries. After the events, a day is two loops:
:func:`encode_block` (the flags the neighbour counts are taken of) and :func:`day_block` (word of mouth and
forgetting, ``rules.daily_alarm``, for every user; the decisions, ``rules.decide``, for the users whose
platforms they can change). A phase is written for a block of users
``[lo, hi)``; ``*_blocks`` drivers run the blocks of :func:`block_bounds` on all threads (``prange``), the
engine calls a block function over all users when it runs on one thread. Each user's result depends only on
its own inputs and the day's neighbour counts, so blocks and threads change no number.

Flags for the neighbour counts (:mod:`sim.counts`): flag 0 is "heard alarming news directly in the last
``buzz_days`` days", flag 1 + k "active on platform k".
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from sim import rules
from sim.counts import contact_count
from sim.jit import jit
from sim.metrics import tally

__all__ = ["BLOCK_USERS", "CHUNK_USERS", "alarm_chunk", "block_bounds", "day_block", "day_blocks", "decide_listed",
           "encode_block", "encode_blocks", "hear_alarming_news", "hear_calming_news", "hear_salient_news",
           "prefetch"]

#: Users per block of the parallel drivers.
BLOCK_USERS = 1 << 14
#: Users per chunk of :func:`day_block` (the length of its ``listed`` room).
CHUNK_USERS = 1 << 11


def block_bounds(n: int, size: int | None = None) -> np.ndarray:
    """Block boundaries ``0, size, 2 size, ..., n`` (int64; size :data:`BLOCK_USERS` by default)."""
    return np.append(np.arange(0, n, size or BLOCK_USERS, dtype=np.int64), np.int64(n))


def prefetch(array, index):
    """A hint that ``array[index]`` (an element, or the start of a row of a 2-D array) will be read soon:
    compiled code asks the processor to bring its cache line in now and goes on (LLVM's ``llvm.prefetch``).
    It changes no number; in Python it does nothing."""


@intrinsic
def _prefetch(typingctx, array, index):
    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        a = context.make_array(array_type)(context, builder, args[0])
        i = context.cast(builder, args[1], index_type, types.intp)
        address = cgutils.get_item_pointer2(context, builder, a.data, cgutils.unpack_tuple(builder, a.shape),
                                            cgutils.unpack_tuple(builder, a.strides), array_type.layout, [i])
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        llvm_prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), "llvm.prefetch.p0i8")
        # read (0), keep in all cache levels (3), data (1)
        builder.call(llvm_prefetch, [builder.bitcast(address, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return types.void(array, index), codegen


@overload(prefetch)
def _compiled_prefetch(array, index):
    return lambda array, index: _prefetch(array, index)


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
    for i in range(np.uint64(lo), np.uint64(hi)):  # unsigned: sim/jit.py says why
        codes[i] = (1 if day - heard[i] < buzz_days else 0) | (uses[i] << 1)


def encode_blocks(bounds, day, buzz_days, heard, uses, codes):
    for j in prange(len(bounds) - 1):
        encode_block(bounds[j], bounds[j + 1], day, buzz_days, heard, uses, codes)


def alarm_chunk(lo, hi, rule, b, traits, alarm, salience, uses, primary, contacts, u, fresh_total, codes,
                next_uses, next_primary, listed):
    """Users ``[lo, hi)``, first pass of :func:`day_block`: each user's word of mouth and forgetting
    (``rules.daily_alarm``; alarm updated in place, and salience if kept), today's platforms and primary copied
    to ``next_uses`` and ``next_primary``, and the users whose decisions must be made (not
    ``rules.keeps_platforms``) listed in ``listed[:count]``. Returns ``count``."""
    everyone = len(codes) - 1
    kept = len(salience) > 0
    count = 0
    for i in range(np.uint64(lo), np.uint64(hi)):  # unsigned: sim/jit.py says why
        if fresh_total >= 0:
            fresh, listeners = fresh_total - (codes[i] & 1), everyone
        else:
            fresh, listeners = contact_count(contacts, i, 0), contacts.degree[i]
        r, s = rules.daily_alarm(b, traits.concern[i], alarm[i], salience[i] if kept else 0.0, fresh, listeners)
        alarm[i] = r
        if kept:
            salience[i] = s
        old, p = uses[i], primary[i]
        next_uses[i], next_primary[i] = old, p
        # The decisions read inertia and tastes: ask for them now, so that they are in cache by the second
        # pass (for every user: a branch on the listing would cost more; measured: the day 10 % faster).
        prefetch(traits.inertia, i)
        prefetch(traits.taste, i)
        listed[count] = i  # kept only if counted: no branch on the uniforms
        count += 0 if rules.keeps_platforms(rule, b, u[i], old, p) else 1
    return count


def decide_listed(listed, count, rule, b, platforms, incumbent, traits, alarm, salience, uses, primary, contacts, u,
                  disruption, next_uses, next_primary, ever, adoptions, counts, change):
    """Second pass of :func:`day_block`: the decisions (``rules.decide``) of the users ``listed[:count]``,
    from their effective alarm and contacts on each platform; their tomorrow's platforms and primary to
    ``next_uses`` and ``next_primary``, ``ever`` and ``adoptions`` updated, the change of the observation
    counts added to ``change``."""
    n_platforms = len(counts)
    kept = len(salience) > 0
    for j in range(count):
        i = listed[j]
        for k in range(n_platforms):
            counts[k] = contact_count(contacts, i, 1 + k)
        old, old_primary = int(uses[i]), int(primary[i])
        seen = rules.effective_alarm(alarm[i], salience[i] if kept else 0.0)
        new, p, adopted = rules.decide(rule, b, incumbent, traits.concern[i], traits.inertia[i], traits.threshold[i],
                                       traits.taste[i], seen, platforms[0], platforms[1], counts, contacts.degree[i],
                                       old, old_primary, u[i], disruption)
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


def day_block(lo, hi, rule, b, platforms, incumbent, traits, alarm, salience, uses, primary, contacts, u,
              disruption, fresh_total, codes, next_uses, next_primary, ever, adoptions, counts, change, listed):
    """Every user's day after the events, from the contacts counted this morning: word of mouth and
    forgetting, then the decisions (MODEL.md 3, phases 2-4). Alarm is updated in place, and salience if kept
    (``salience`` is empty when the scenario's is 0); tomorrow's platform use (bit sets) and primary go to
    ``next_uses`` and ``next_primary``; ``ever`` (bit sets) and ``adoptions`` (adoption events per platform)
    are updated in place, and the change of the day's observation counts (``metrics.tally`` of the users who
    changed) is added to ``change``. ``counts`` is room for one user's contacts per platform (int64),
    ``listed`` for the users of a chunk (int64; its length is the chunk's). Word of mouth comes from a user's
    contacts, or with ``fresh_total`` >= 0 from the whole population: the ``fresh_total`` users with fresh
    news less the user itself (bit 0 of its ``codes``) among the ``n - 1`` others.

    The users go in chunks of ``len(listed)``: :func:`alarm_chunk` over all of a chunk's users, then
    :func:`decide_listed` over those whose decisions can change something, while their rows are still in
    cache. The others' decisions would give back their platforms (``rules.keeps_platforms``), so the numbers
    are those of deciding for everyone."""
    for start in range(lo, hi, len(listed)):
        end = min(hi, start + len(listed))
        count = alarm_chunk(start, end, rule, b, traits, alarm, salience, uses, primary, contacts, u, fresh_total,
                            codes, next_uses, next_primary, listed)
        decide_listed(listed, count, rule, b, platforms, incumbent, traits, alarm, salience, uses, primary, contacts,
                      u, disruption, next_uses, next_primary, ever, adoptions, counts, change)


def day_blocks(bounds, rule, b, platforms, incumbent, traits, alarm, salience, uses, primary, contacts, u,
               disruption, fresh_total, codes, next_uses, next_primary, ever, adoptions, counts, change, listed):
    """:func:`day_block` on each block of users on all threads (``counts``, ``change``, ``listed``: a row per
    block)."""
    for j in prange(len(bounds) - 1):
        day_block(bounds[j], bounds[j + 1], rule, b, platforms, incumbent, traits, alarm, salience, uses, primary,
                  contacts, u, disruption, fresh_total, codes, next_uses, next_primary, ever, adoptions, counts[j],
                  change[j], listed[j])


hear_alarming_news = jit(hear_alarming_news)
hear_calming_news = jit(hear_calming_news)
hear_salient_news = jit(hear_salient_news)
encode_block = jit(encode_block)
encode_blocks = jit(encode_blocks, parallel=True)
alarm_chunk = jit(alarm_chunk)
decide_listed = jit(decide_listed)
day_block = jit(day_block)
day_blocks = jit(day_blocks, parallel=True)
