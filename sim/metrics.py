"""Observations per day (the time-series columns) and outcomes per run (docs/MODEL.md, 7.5 and 8).

The day's counts over users come from one compiled pass (:func:`count_block`, per block of users on all
threads for large populations); both engines call the same function.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import prange

from sim.jit import jit, set_threads
from sim.population import UserState

__all__ = ["OBSERVE_BLOCK", "count_block", "count_blocks", "observe", "outcomes", "weekly_ratio"]

#: Users per block when the day's counts run on several threads.
OBSERVE_BLOCK = 1 << 16


def count_block(lo, hi, incumbent, active, primary, ever, adoptions, out):
    """Add users ``lo .. hi-1``'s counts to ``out`` (int64, length 4 K + 4): per platform, users active, with
    it as primary, ever active and adoption events; then users on two or more platforms, on the incumbent
    only, not on the incumbent, and who used the incumbent and no longer do."""
    n_platforms = active.shape[1]
    for i in range(lo, hi):
        on = 0
        for k in range(n_platforms):
            if active[i, k]:
                out[k] += 1
                on += 1
            if ever[i, k]:
                out[2 * n_platforms + k] += 1
            out[3 * n_platforms + k] += adoptions[i, k]
        out[n_platforms + primary[i]] += 1
        base = 4 * n_platforms
        if on >= 2:
            out[base] += 1
        if active[i, incumbent]:
            if on == 1:
                out[base + 1] += 1
        else:
            out[base + 2] += 1
            if ever[i, incumbent]:
                out[base + 3] += 1


def count_blocks(bounds, incumbent, active, primary, ever, adoptions, out):
    """:func:`count_block` on each block ``bounds[j] .. bounds[j+1]``, into row j of ``out``."""
    for j in prange(len(bounds) - 1):
        count_block(bounds[j], bounds[j + 1], incumbent, active, primary, ever, adoptions, out[j])


count_block = jit(count_block)
count_blocks = jit(count_blocks, parallel=True)


def observe(day: int, names: tuple[str, ...], incumbent: int, state: UserState,
            threads: int = 1) -> dict[str, float]:
    """One row of the time series: shares of users (all in [0, 1]; ``incumbent_only``, ``rivals_only`` and the
    incumbent's multi-homers partition the users) except ``adoptions_<p>``, the cumulative
    number of adoption events per user (equal to ``adopters_<p>`` minus the day-0 base when nobody re-adopts).

    With ``threads`` > 1 the counts run per block of :data:`OBSERVE_BLOCK` users on that many threads.
    """
    n, k = len(state.alarm), len(names)
    args = (incumbent, state.active, state.primary, state.ever, state.adoptions)
    if threads > 1:
        set_threads(threads)
        bounds = np.append(np.arange(0, n, OBSERVE_BLOCK, dtype=np.int64), np.int64(n))
        per_block = np.zeros((len(bounds) - 1, 4 * k + 4), dtype=np.int64)
        count_blocks(bounds, *args, per_block)
        c = per_block.sum(axis=0)
    else:
        c = np.zeros(4 * k + 4, dtype=np.int64)
        count_block(0, n, *args, c)
    row: dict[str, float] = {"day": day}
    row |= {f"active_{p}": float(c[i] / n) for i, p in enumerate(names)}
    row |= {f"primary_{p}": float(c[k + i] / n) for i, p in enumerate(names)}
    row["multihoming"] = float(c[4 * k] / n)
    row["incumbent_only"] = float(c[4 * k + 1] / n)
    row["rivals_only"] = float(c[4 * k + 2] / n)
    row[f"exit_{names[incumbent]}"] = float(c[4 * k + 3] / n)
    row["mean_alarm"] = float(np.mean(state.alarm))
    row |= {f"adopters_{p}": float(c[2 * k + i] / n) for i, p in enumerate(names)}
    row |= {f"adoptions_{p}": float(c[3 * k + i] / n) for i, p in enumerate(names)}
    return row


def weekly_ratio(ts: pd.DataFrame, rival: str, incumbent: str) -> pd.Series:
    """w(d): mean over days d..d+6 of x = rival active share / incumbent active share (the panels' weekly
    users, as a share of the incumbent's), indexed by d."""
    x = ts[f"active_{rival}"] / ts[f"active_{incumbent}"]
    return x.rolling(7).mean().shift(-6)


def outcomes(ts: pd.DataFrame, names: tuple[str, ...], incumbent: int) -> dict[str, float]:
    """Per-run outcomes (MODEL_SPEC 6) for each rival: peak active share and day, share at peak + 7/14/21
    days, final share, repeat adoptions per adopter; for the incumbent: trough and day, final share; final
    multi-homing and exit shares; cascade size (final adopters of the first rival)."""
    out: dict[str, float] = {}
    days = ts["day"].to_numpy()
    inc = names[incumbent]
    rivals = [p for k, p in enumerate(names) if k != incumbent]
    for p in rivals:
        s = ts[f"active_{p}"].to_numpy()
        i = int(np.argmax(s))
        out[f"peak_{p}"] = float(s[i])
        out[f"peak_day_{p}"] = int(days[i])
        for lag in (7, 14, 21):
            j = i + lag
            out[f"after{lag}_{p}"] = float(s[j]) if j < len(s) else float("nan")
        out[f"final_{p}"] = float(s[-1])
        new_adopters = ts[f"adopters_{p}"].iloc[-1] - ts[f"adopters_{p}"].iloc[0]
        events = ts[f"adoptions_{p}"].iloc[-1]
        out[f"repeat_adoptions_{p}"] = float(events / new_adopters) if new_adopters > 0 else float("nan")
    s = ts[f"active_{inc}"].to_numpy()
    i = int(np.argmin(s))
    out[f"trough_{inc}"] = float(s[i])
    out[f"trough_day_{inc}"] = int(days[i])
    out[f"final_{inc}"] = float(s[-1])
    out[f"loss_{inc}"] = float(s[0] - s[i])
    out["final_multihoming"] = float(ts["multihoming"].iloc[-1])
    out[f"final_exit_{inc}"] = float(ts[f"exit_{inc}"].iloc[-1])
    out["peak_mean_alarm"] = float(ts["mean_alarm"].max())
    out["cascade_size"] = float(ts[f"adopters_{rivals[0]}"].iloc[-1])
    return out
