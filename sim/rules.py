"""The per-user rules of docs/MODEL.md (section 7), each written once as a scalar function and compiled with
numba (:mod:`sim.jit`).

Both engines call these functions and no copy of them: the Mesa engine's ``UserAgent`` calls
:func:`user_day` (:func:`daily_alarm`, :func:`keeps_platforms` and :func:`decide` in one call) for itself with
plain numbers and its own small arrays; the array engine calls the three from its compiled loops over users
(:mod:`sim.loops`). So for the
same inputs both compute the same numbers with the same floating-point operations, and their trajectories
are identical.

Conventions:

- A user's platform use is a bit set ``uses`` (bit k set: active on platform k), so that it passes to and
  from compiled code as one integer.
- Arrays are one user's: ``taste``, ``counts`` (contacts active on each platform yesterday), ``u`` (the
  day's uniform draw per platform); ``exposure`` and ``appeal`` are the platforms'.
- The behaviour parameters come as one float64 vector (:func:`parameters`, index constants below): a
  single array is what numba passes cheapest, which matters for the Mesa engine's per-agent calls.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config import Behaviour
from sim.jit import jit

__all__ = [
    "BASS",
    "PPM",
    "RULE_IDS",
    "THRESHOLD",
    "alarm_after_calming_news",
    "alarm_after_news",
    "bass",
    "chance",
    "choose_primary",
    "contact_share",
    "daily_alarm",
    "decide",
    "effective_alarm",
    "forget",
    "keeps_platforms",
    "logistic",
    "outage_push",
    "parameters",
    "ppm",
    "switching_gap",
    "threshold",
    "use_value",
    "user_day",
    "word_of_mouth",
]

# Positions in the behaviour vector.
(B_NET, B_PULL, B_APPEAL, B_PRIV, B_PUSH, LAM, LAM_DROP, LAM_EXIT, TAU, BAND, EXIT_LEVEL, HABIT, BASS_P, BASS_Q,
 MU, DELTA, R_BASE, SALIENCE, SALIENCE_DECAY) = range(19)
_FIELDS = ("b_net", "b_pull", "b_appeal", "b_priv", "b_push", "lam", "lam_drop", "lam_exit", "tau", "band",
           "exit_level", "habit", "bass_p", "bass_q", "mu", "delta", "r_base", "salience", "salience_decay")

PPM, THRESHOLD, BASS = 0, 1, 2
#: The decision rules by config name (``behaviour.rule``).
RULE_IDS = {"ppm": PPM, "threshold": THRESHOLD, "bass": BASS}


def parameters(b: Behaviour) -> np.ndarray:
    """The behaviour parameters the rules read, as the float64 vector they take."""
    return np.array([getattr(b, name) for name in _FIELDS], dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------
# Alarm (MODEL.md 7.1-7.3)
# ---------------------------------------------------------------------------------------------------------

def alarm_after_news(r, intensity):
    """Alarming news heard directly: ``r <- r + intensity (1 - r)``."""
    return r + intensity * (1.0 - r)


def alarm_after_calming_news(r, credibility):
    """Calming news (apology, clarification, ...) heard directly: ``r <- r (1 - credibility)``."""
    return r * (1.0 - credibility)


def contact_share(count, degree):
    """The share ``count / degree`` of a user's contacts; 0 for a user without contacts (and, without a
    division, for none of them: most users on most days)."""
    return count / degree if count > 0 else 0.0


def word_of_mouth(r, fresh, degree, mu):
    """Fresh news from contacts: ``r <- r + mu (1 - r) g``, g = share of the user's contacts (``fresh`` of
    ``degree``) who heard alarming news directly in the last ``buzz_days`` days."""
    return r + mu * (1.0 - r) * contact_share(fresh, degree)


def forget(r, rest, delta):
    """Forgetting toward the resting alarm ``rest = r_base c``: ``r <- rest + (r - rest)(1 - delta)``."""
    return rest + (r - rest) * (1.0 - delta)


def effective_alarm(r, s):
    """The alarm decisions see from slow alarm ``r`` and fast salience ``s``: ``r + s - r s`` (either one
    alone when the other is 0; at most 1)."""
    return r + s - r * s


# ---------------------------------------------------------------------------------------------------------
# Decisions (MODEL.md 7.4)
# ---------------------------------------------------------------------------------------------------------

#: The largest argument of exp below overflow, log(DBL_MAX); beyond it sigma is 0 in double precision.
EXP_MAX = 709.782712893384


def logistic(x, tau):
    """sigma(x / tau); with tau = 0 the deterministic step (1 above 0, 1/2 at 0, 0 below).

    Far below zero (exp(-x / tau) beyond :data:`EXP_MAX`) sigma is 0, as compiled code's exp -> inf gives, and
    pure Python would raise OverflowError."""
    if tau == 0.0:
        if x > 0.0:
            return 1.0
        return 0.5 if x == 0.0 else 0.0
    z = -(x / tau)
    if z > EXP_MAX:
        return 0.0
    return 1.0 / (1.0 + math.exp(z))


def chance(u, rate, x, tau):
    """Whether an event of daily probability ``rate sigma(x / tau)`` happens, for the day's uniform ``u``.

    The logistic is evaluated only when ``u < rate``: it is at most 1, so otherwise the answer is no anyway.
    """
    return u < rate and u < rate * logistic(x, tau)


def use_value(b, concern, alarm, exposure, appeal, taste, count, degree):
    """``V_k = b_net f_k + b_appeal appeal_k + e_k - b_priv c R_k`` of one platform k (its ``exposure``,
    ``appeal``, the user's ``taste`` for it and ``count`` of its ``degree`` contacts on it), with perceived
    risk R_k = r exposure_k."""
    return (b[B_NET] * contact_share(count, degree) + b[B_APPEAL] * appeal + taste
            - b[B_PRIV] * concern * (alarm * exposure))


def outage_push(disruption, primary, incumbent):
    """The push of an outage: ``disruption`` for a user whose primary is the (unusable) incumbent, else 0."""
    return disruption * (1.0 if primary == incumbent else 0.0)


def switching_gap(b, concern, inertia, alarm, exposure_primary, exposure, appeal, taste, count, degree, push):
    """``X_k - kappa``: how far the switching index toward one rival k (its ``exposure``, ``appeal``, the
    user's ``taste`` for it and ``count`` of its ``degree`` contacts on it) is above the user's inertia.

    ``X_k = b_push c (R_p - R_k) + b_pull f_k + b_appeal appeal_k + e_k`` (p = primary, whose exposure is
    ``exposure_primary``), plus an outage's ``push`` (:func:`outage_push`).
    """
    relief = alarm * exposure_primary - alarm * exposure
    return (b[B_PUSH] * concern * relief + push + b[B_PULL] * contact_share(count, degree) + b[B_APPEAL] * appeal
            + taste - inertia)


def uses_platform(uses, k):
    """Whether bit set ``uses`` has platform k."""
    return (uses >> k) & 1 == 1


def choose_primary(b, primary, concern, alarm, taste, exposure, appeal, counts, degree, uses):
    """The platform in use with the highest ``V_k + habit [k is the current primary]`` (the first on ties)."""
    if uses & (uses - 1) == 0:  # a single platform: nothing to compare
        best = 0
        while not uses_platform(uses, best):
            best += 1
        return best
    best, best_score = -1, 0.0
    for k in range(len(taste)):
        if uses_platform(uses, k):
            score = (use_value(b, concern, alarm, exposure[k], appeal[k], taste[k], counts[k], degree)
                     + b[HABIT] * (1.0 if k == primary else 0.0))
            if best < 0 or score > best_score:
                best, best_score = k, score
    return best


def ppm(b, incumbent, concern, inertia, taste, alarm, exposure, appeal, counts, degree, uses, primary, u,
        disruption):
    """Push-pull-mooring decisions of one user. Returns tomorrow's (uses, primary, adopted), ``adopted``
    being the bit set of platforms taken up today.

    - A rival k not in use is adopted with probability ``lam sigma((X_k - kappa) / tau)``.
    - A rival in use but not primary is kept while ``X_k >= kappa - band``; below, it is dropped with
      probability ``lam_drop sigma((kappa - band - X_k) / tau)``.
    - The incumbent is left, only by a user with a rival in use, with probability
      ``lam_exit sigma((exit_level - V_inc) / tau)``, and re-joined with
      ``lam sigma((V_inc - exit_level - band) / tau)``.
    - A user left with no platform keeps the primary; the primary is then chosen by :func:`choose_primary`.

    The uniform ``u[k]`` decides about platform k (about the incumbent: leaving or returning).
    """
    lam, lam_drop, tau, band = b[LAM], b[LAM_DROP], b[TAU], b[BAND]
    push = outage_push(disruption, primary, incumbent)
    adopted, dropped = 0, 0
    for k in range(len(taste)):
        if k == incumbent:
            continue
        if not uses_platform(uses, k):
            if u[k] < lam:
                gap = switching_gap(b, concern, inertia, alarm, exposure[primary], exposure[k], appeal[k], taste[k],
                                    counts[k], degree, push)
                if chance(u[k], lam, gap, tau):
                    adopted |= 1 << k
        elif k != primary and u[k] < lam_drop:
            gap = switching_gap(b, concern, inertia, alarm, exposure[primary], exposure[k], appeal[k], taste[k],
                                counts[k], degree, push)
            if gap < -band and chance(u[k], lam_drop, -band - gap, tau):
                dropped |= 1 << k
    ui, on_incumbent = u[incumbent], 1 << incumbent
    v = use_value(b, concern, alarm, exposure[incumbent], appeal[incumbent], taste[incumbent], counts[incumbent],
                  degree) if ui < lam or ui < b[LAM_EXIT] else 0.0
    if uses & on_incumbent:
        if uses != on_incumbent and chance(ui, b[LAM_EXIT], b[EXIT_LEVEL] - v, tau):  # only with a rival in use
            dropped |= on_incumbent
    elif chance(ui, lam, v - b[EXIT_LEVEL] - band, tau):
        adopted |= on_incumbent
    new = (uses & ~dropped) | adopted
    if new == 0:  # dropped the last rival on the day of leaving the incumbent
        new = 1 << primary
    return new, choose_primary(b, primary, concern, alarm, taste, exposure, appeal, counts, degree, new), adopted


def threshold(incumbent, phi, counts, degree, uses, primary):
    """Granovetter/Watts threshold rule: adopt rival k iff ``f_k >= phi`` (an exact step); never drop.
    Only rival adoption changes; the incumbent and the primary stay. Returns (uses, primary, adopted)."""
    adopted = 0
    for k in range(len(counts)):
        if k != incumbent and not uses_platform(uses, k) and contact_share(counts[k], degree) >= phi:
            adopted |= 1 << k
    return uses | adopted, primary, adopted


def bass(b, incumbent, counts, degree, uses, primary, u):
    """Bass (1969) rule: adopt rival k with daily probability ``1 - exp(-(p + q f_k))``; never drop.
    Only rival adoption changes; the incumbent and the primary stay. Returns (uses, primary, adopted)."""
    adopted = 0
    for k in range(len(counts)):
        hazard = -math.expm1(-(b[BASS_P] + b[BASS_Q] * contact_share(counts[k], degree)))
        if k != incumbent and not uses_platform(uses, k) and u[k] < hazard:
            adopted |= 1 << k
    return uses | adopted, primary, adopted


def decide(rule, b, incumbent, concern, inertia, phi, taste, alarm, exposure, appeal, counts, degree, uses,
           primary, u, disruption):
    """One user's decisions by the configured rule (:data:`RULE_IDS`), from yesterday's ``uses`` and the
    contacts' platform use ``counts``. Returns tomorrow's (uses, primary, adopted)."""
    if rule == PPM:
        return ppm(b, incumbent, concern, inertia, taste, alarm, exposure, appeal, counts, degree, uses,
                   primary, u, disruption)
    if rule == THRESHOLD:
        return threshold(incumbent, phi, counts, degree, uses, primary)
    return bass(b, incumbent, counts, degree, uses, primary, u)


def daily_alarm(b, concern, alarm, salience, fresh, listeners):
    """One user's alarm and salience after the day's word of mouth and forgetting (MODEL.md 3, phase 2): word
    of mouth from ``fresh`` of the ``listeners`` it hears from (its contacts; everyone else with word of mouth
    from the whole population), a share ``1 - salience`` of it to the slow ``alarm``, ``salience`` to the fast
    ``salience``; then alarm is forgotten toward ``r_base c`` at ``delta``, salience toward 0 at
    ``salience_decay``. Returns (alarm, salience); the decisions see their :func:`effective_alarm`."""
    r = forget(word_of_mouth(alarm, fresh, listeners, b[MU] * (1.0 - b[SALIENCE])), b[R_BASE] * concern, b[DELTA])
    s = forget(word_of_mouth(salience, fresh, listeners, b[MU] * b[SALIENCE]), 0.0, b[SALIENCE_DECAY])
    return r, s


def keeps_platforms(rule, b, u, uses, primary):
    """Whether the day's decisions (:func:`decide`, uniforms ``u``) surely leave a user's platforms and
    primary as they are, so that they need not be made: under :func:`ppm`, a user on its primary alone (no
    platform to drop, no primary to choose) whose uniforms of the other platforms are all at or above ``lam``
    (no adoption of a rival, no return to the incumbent, each of probability at most ``lam``). On such a
    user :func:`decide` returns ``(uses, primary, 0)``; most users are such on most days. False under the
    other rules."""
    fires = False
    for k in range(len(u)):
        fires |= (u[k] < b[LAM]) & (k != primary)
    return rule == PPM and uses == 1 << primary and not fires


def user_day(rule, b, platforms, incumbent, concern, inertia, phi, taste, counts, degree, alarm, salience, fresh,
             listeners, uses, primary, u, node, disruption):
    """One user's day after the events in one call, as the Mesa engine's agent makes it (a call from Python
    costs more than the rules): :func:`daily_alarm`, then :func:`decide` from the effective alarm with the
    uniforms ``u[node]``, unless :func:`keeps_platforms`. ``platforms`` holds the platforms' exposure (row 0)
    and appeal (row 1). Returns (alarm, salience, uses, primary, adopted)."""
    r, s = daily_alarm(b, concern, alarm, salience, fresh, listeners)
    draws = u[node]
    if keeps_platforms(rule, b, draws, uses, primary):
        return r, s, uses, primary, 0
    new_uses, new_primary, adopted = decide(rule, b, incumbent, concern, inertia, phi, taste, effective_alarm(r, s),
                                            platforms[0], platforms[1], counts, degree, uses, primary, draws,
                                            disruption)
    return r, s, new_uses, new_primary, adopted


# Compiled in place (sim/jit.py says why they are not decorated). Callers and the other kernels use these.
alarm_after_news = jit(alarm_after_news, inline=True)
alarm_after_calming_news = jit(alarm_after_calming_news, inline=True)
contact_share = jit(contact_share, inline=True)
word_of_mouth = jit(word_of_mouth, inline=True)
forget = jit(forget, inline=True)
effective_alarm = jit(effective_alarm, inline=True)
logistic = jit(logistic, inline=True)
chance = jit(chance, inline=True)
use_value = jit(use_value, inline=True)
outage_push = jit(outage_push, inline=True)
switching_gap = jit(switching_gap, inline=True)
uses_platform = jit(uses_platform, inline=True)
choose_primary = jit(choose_primary, inline=True)
ppm = jit(ppm, inline=True)
threshold = jit(threshold, inline=True)
bass = jit(bass, inline=True)
decide = jit(decide, inline=True)
daily_alarm = jit(daily_alarm, inline=True)
keeps_platforms = jit(keeps_platforms, inline=True)
user_day = jit(user_day)
