"""Decision and alarm kernels: pure, vectorised numpy functions shared by both engines (docs/MODEL.md, 7).

Every kernel works on arrays whose first axis is the user; the Mesa engine calls the same functions for one
agent with arrays of length 1 (or plain floats for the alarm kernels), so both engines compute the same numbers
with the same floating-point operations. Never copy a formula out of this module: import it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from sim.config import Behaviour

__all__ = [
    "RULES",
    "DecisionInputs",
    "alarm_after_calming_news",
    "alarm_after_news",
    "bass",
    "contact_shares",
    "decide",
    "forget",
    "logistic",
    "ppm",
    "threshold",
    "word_of_mouth",
]


# ---------------------------------------------------------------------------------------------------------
# Alarm (MODEL.md 7.1-7.3). Plain arithmetic only, so floats and float64 arrays give identical results.
# ---------------------------------------------------------------------------------------------------------

def alarm_after_news(r, intensity: float):
    """Alarming news heard directly: ``r <- r + intensity * (1 - r)``."""
    return r + intensity * (1.0 - r)


def alarm_after_calming_news(r, credibility: float):
    """Calming news (apology, clarification, ...) heard directly: ``r <- r * (1 - credibility)``."""
    return r * (1.0 - credibility)


def word_of_mouth(r, g, mu: float):
    """Fresh news from contacts: ``r <- r + mu * (1 - r) * g``, g = share of contacts who heard it lately."""
    return r + mu * (1.0 - r) * g


def forget(r, rest, delta: float):
    """Forgetting toward the resting alarm ``rest = r_base * c``: ``r <- rest + (r - rest) * (1 - delta)``."""
    return rest + (r - rest) * (1.0 - delta)


# ---------------------------------------------------------------------------------------------------------
# Decisions (MODEL.md 7.4)
# ---------------------------------------------------------------------------------------------------------

def logistic(x: np.ndarray, tau: float) -> np.ndarray:
    """sigma(x / tau); with tau = 0 the deterministic step (1 above 0, 1/2 at 0, 0 below)."""
    if tau == 0:
        return (x > 0) + 0.5 * (x == 0)
    return expit(x / tau)


def contact_shares(counts: np.ndarray, degree: np.ndarray) -> np.ndarray:
    """f = counts / degree per platform from integer neighbour counts; 0 for isolated users."""
    deg = degree.reshape(-1, *([1] * (counts.ndim - 1)))
    return np.divide(counts, deg, out=np.zeros(counts.shape), where=deg > 0)


@dataclass(frozen=True)
class DecisionInputs:
    """Everything a decision kernel reads, for n users and K platforms (first axis: user).

    ``counts[i, k]`` is the number of i's contacts active on k yesterday; ``u[i, k]`` the day's uniform draw
    for i's decision about k (adopt or drop a rival; leave or return to the incumbent).
    """

    incumbent: int
    concern: np.ndarray     # (n,)
    inertia: np.ndarray     # (n,)
    threshold: np.ndarray   # (n,) phi, rule `threshold`
    taste: np.ndarray       # (n, K)
    alarm: np.ndarray       # (n,)
    exposure: np.ndarray    # (K,)
    appeal: np.ndarray      # (K,)
    counts: np.ndarray      # (n, K) integers
    degree: np.ndarray      # (n,) integers
    active: np.ndarray      # (n, K) bool, yesterday
    primary: np.ndarray     # (n,) int, yesterday
    u: np.ndarray           # (n, K) uniform [0, 1)
    disruption: float = 0.0  # push away from an incumbent that is down (outage)


def _chance(candidates: np.ndarray, u: np.ndarray, rate: float, x: np.ndarray, tau: float) -> np.ndarray:
    """``candidates & (u < rate * logistic(x, tau))``, with the logistic evaluated only where ``u < rate``
    (elsewhere the comparison is false anyway, since logistic <= 1): the same booleans for less work."""
    out = candidates & (u < rate)
    where = np.nonzero(out)
    out[where] = u[where] < rate * logistic(x[where], tau)
    return out


def _any(columns: list[np.ndarray]) -> np.ndarray:
    """Element-wise OR of bool columns (a loop over the few platforms beats ``any(axis=1)`` many times)."""
    out = columns[0].copy()
    for c in columns[1:]:
        out |= c
    return out


def _use_value(b: Behaviour, x: DecisionInputs, f: np.ndarray, risk: np.ndarray) -> np.ndarray:
    """V_k = b_net f_k + b_appeal appeal_k + e_k - b_priv c R_k."""
    return b.b_net * f + b.b_appeal * x.appeal + x.taste - b.b_priv * x.concern[:, None] * risk


def _choose_primary(b: Behaviour, x: DecisionInputs, active: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Primary = the active platform with the highest V_k + habit * [k is the current primary]."""
    current = np.arange(active.shape[1]) == x.primary[:, None]
    score = np.where(active, value + b.habit * current, -np.inf)
    return np.argmax(score, axis=1).astype(x.primary.dtype)


def ppm(b: Behaviour, x: DecisionInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Push-pull-mooring decisions. Returns (active, primary, adopted) for today.

    Perceived risk R_k = r * exposure_k. Switching index toward rival k:
    ``X_k = b_push c (R_p - R_k) + b_pull f_k + b_appeal appeal_k + e_k`` (p = primary). A rival not in use is
    adopted with probability ``lam sigma((X_k - kappa) / tau)``; one in use but not primary is kept while
    ``X_k >= kappa - band`` and otherwise dropped with probability ``lam_drop sigma((kappa - band - X_k) / tau)``.
    The incumbent is left (only by a user with another platform) with probability
    ``lam_exit sigma((exit_level - V_inc) / tau)`` and re-joined with ``lam sigma((V_inc - exit_level - band) / tau)``.
    """
    n, k_count = x.counts.shape
    inc = x.incumbent
    f = contact_shares(x.counts, x.degree)
    risk = x.alarm[:, None] * x.exposure
    value = _use_value(b, x, f, risk)
    rows = np.arange(n)
    relief = risk[rows, x.primary][:, None] - risk
    push = b.b_push * x.concern[:, None] * relief + x.disruption * (x.primary == inc)[:, None]
    gap = push + b.b_pull * f + b.b_appeal * x.appeal + x.taste - x.inertia[:, None]

    rival = np.arange(k_count) != inc
    is_primary = np.arange(k_count) == x.primary[:, None]
    adopt = _chance(~x.active & rival, x.u, b.lam, gap, b.tau)
    below = gap < -b.band
    drop = _chance(x.active & rival & ~is_primary & below, x.u, b.lam_drop, -b.band - gap, b.tau)

    v_inc = value[:, inc]
    on_inc = x.active[:, inc]
    has_other = _any([x.active[:, k] for k in range(k_count) if k != inc])
    leave = _chance(on_inc & has_other, x.u[:, inc], b.lam_exit, b.exit_level - v_inc, b.tau)
    back = _chance(~on_inc, x.u[:, inc], b.lam, v_inc - b.exit_level - b.band, b.tau)

    active = (x.active & ~drop) | adopt
    active[:, inc] = (on_inc & ~leave) | back
    stranded = ~_any([active[:, k] for k in range(k_count)])  # dropped the last other platform on leaving
    active[stranded, x.primary[stranded]] = True
    adopted = adopt.copy()
    adopted[:, inc] = back
    return active, _choose_primary(b, x, active, value), adopted


def threshold(b: Behaviour, x: DecisionInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Granovetter/Watts threshold rule: adopt rival k iff f_k >= phi_i (exact step); never drop.

    Only rival adoption changes; the incumbent and the primary stay as they are.
    """
    f = contact_shares(x.counts, x.degree)
    rival = np.arange(x.counts.shape[1]) != x.incumbent
    adopt = ~x.active & rival & (f >= x.threshold[:, None])
    return x.active | adopt, x.primary.copy(), adopt


def bass(b: Behaviour, x: DecisionInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bass (1969) rule: adopt rival k with daily probability ``1 - exp(-(p + q f_k))``; never drop.

    Only rival adoption changes; the incumbent and the primary stay as they are.
    """
    f = contact_shares(x.counts, x.degree)
    rival = np.arange(x.counts.shape[1]) != x.incumbent
    hazard = -np.expm1(-(b.bass_p + b.bass_q * f))
    adopt = ~x.active & rival & (x.u < hazard)
    return x.active | adopt, x.primary.copy(), adopt


RULES = {"ppm": ppm, "threshold": threshold, "bass": bass}


def decide(b: Behaviour, x: DecisionInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply the configured rule (``b.rule``): (active, primary, adopted today) for every user in ``x``."""
    return RULES[b.rule](b, x)
