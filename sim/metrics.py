"""Observations per day (the time-series columns) and outcomes per run (docs/MODEL.md, 7.5 and 8).

A day's observation is a vector of counts over users (:data:`COUNTS`: per platform, users active, with it as
primary, ever active and adoption events; then users on two or more platforms, on the incumbent only, not
on the incumbent, and who left it), plus the mean alarm. :func:`tally` is one user's part of it; the Mesa
engine counts everyone each day (:func:`count_block`), the array engine keeps running totals and adds each
day only the change of the users whose state changed. Both use :func:`tally`, so their counts agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.jit import jit
from sim.population import UserState

__all__ = ["MONTH_DAYS", "count_block", "count_state", "monthly_shares", "note_drops", "observe", "outcomes",
           "segment_shares", "tally", "weekly_ratio"]


def tally(out, uses, ever, primary, incumbent, n_platforms, sign):
    """Add ``sign`` times one user's part to the counts ``out`` (length 4 K + 4; the adoption events, slots
    3 K .. 4 K - 1, are added where they happen). ``uses`` and ``ever`` are bit sets over platforms."""
    for k in range(n_platforms):
        out[k] += sign * ((uses >> k) & 1)
        out[2 * n_platforms + k] += sign * ((ever >> k) & 1)
    out[n_platforms + primary] += sign
    base, on_incumbent = 4 * n_platforms, 1 << incumbent
    if uses & (uses - 1):
        out[base] += sign
    if uses == on_incumbent:
        out[base + 1] += sign
    if uses & on_incumbent == 0:
        out[base + 2] += sign
        if ever & on_incumbent:
            out[base + 3] += sign


def count_block(lo, hi, incumbent, uses, primary, ever, adoptions, out):
    """Add users ``lo .. hi-1``'s counts to ``out`` (int64, length 4 K + 4)."""
    n_platforms = adoptions.shape[1]
    for i in range(lo, hi):
        tally(out, int(uses[i]), int(ever[i]), int(primary[i]), incumbent, n_platforms, 1)
        for k in range(n_platforms):
            out[3 * n_platforms + k] += adoptions[i, k]


tally = jit(tally, inline=True)
count_block = jit(count_block)


def count_state(state: UserState, incumbent: int) -> np.ndarray:
    """Every user's counts (int64, length 4 K + 4)."""
    out = np.zeros(4 * state.adoptions.shape[1] + 4, dtype=np.int64)
    count_block(0, len(state.uses), incumbent, state.uses, state.primary, state.ever, state.adoptions, out)
    return out


def observe(day: int, names: tuple[str, ...], incumbent: int, counts: np.ndarray, alarm: np.ndarray
            ) -> dict[str, float]:
    """One row of the time series from the day's ``counts`` (:func:`count_state`) and everyone's ``alarm``:
    shares of users (all in [0, 1]; ``incumbent_only``, ``rivals_only`` and the incumbent's multi-homers
    partition the users) except ``adoptions_<p>``, the cumulative number of adoption events per user (equal
    to ``adopters_<p>`` minus the day-0 base when nobody re-adopts)."""
    n, k, c = len(alarm), len(names), counts
    row: dict[str, float] = {"day": day}
    row |= {f"active_{p}": float(c[i] / n) for i, p in enumerate(names)}
    row |= {f"primary_{p}": float(c[k + i] / n) for i, p in enumerate(names)}
    row["multihoming"] = float(c[4 * k] / n)
    row["incumbent_only"] = float(c[4 * k + 1] / n)
    row["rivals_only"] = float(c[4 * k + 2] / n)
    row[f"exit_{names[incumbent]}"] = float(c[4 * k + 3] / n)
    row["mean_alarm"] = float(np.mean(alarm))
    row |= {f"adopters_{p}": float(c[2 * k + i] / n) for i, p in enumerate(names)}
    row |= {f"adoptions_{p}": float(c[3 * k + i] / n) for i, p in enumerate(names)}
    return row


#: A user counts as a platform's monthly active user on day d if active on it on some day d - 29 .. d.
MONTH_DAYS = 30


def note_drops(before: np.ndarray, after: np.ndarray, left: np.ndarray, day: int) -> None:
    """Record in ``left`` (users x platforms, int) ``day`` for each platform a user stopped using today
    (bit set in ``before``, the platform use of yesterday, and not in ``after``)."""
    dropped = before & ~after
    for k in range(left.shape[1]):
        left[(dropped >> k) & 1 == 1, k] = day


def monthly_shares(day: int, names: tuple[str, ...], uses: np.ndarray, left: np.ndarray) -> dict[str, float]:
    """``monthly_<p>``: share of users active on p on some day of the last :data:`MONTH_DAYS` (d - 29 .. d):
    those active today, and those who stopped on a day t >= d - 28 (their last day on it, t - 1, is in the
    window). Days before day 0 are not known: until day 29 the share counts only what the run saw."""
    n = len(uses)
    out = {}
    for k, p in enumerate(names):
        on = (uses >> k) & 1 == 1
        recent = ~on & (left[:, k] >= day - (MONTH_DAYS - 2))
        out[f"monthly_{p}"] = float((np.count_nonzero(on) + np.count_nonzero(recent)) / n)
    return out


def segment_shares(names: tuple[str, ...], engaged_uses: np.ndarray, active: np.ndarray, n: int
                   ) -> dict[str, float]:
    """``engaged_active_<p>`` and ``general_active_<p>``: the share of the engaged segment, and of the other
    users, active on each platform (the data say the adopters were politically engaged early adopters), from
    the engaged users' platform use ``engaged_uses`` (bit sets), everyone's ``active`` count per platform (the
    first K observation counts) and the ``n`` users in all: the other users' counts are the difference, so
    only the engaged segment is read."""
    m = len(engaged_uses)
    on = [np.count_nonzero((engaged_uses >> k) & 1) for k in range(len(names))]
    out = {f"engaged_active_{p}": float(on[k] / m) for k, p in enumerate(names)}
    return out | {f"general_active_{p}": float((int(active[k]) - on[k]) / (n - m)) for k, p in enumerate(names)}


def weekly_ratio(ts: pd.DataFrame, rival: str, incumbent: str) -> pd.Series:
    """w(d): mean over days d..d+6 of x = rival active share / incumbent active share (the panels' weekly
    users, as a share of the incumbent's), indexed by d."""
    x = ts[f"active_{rival}"] / ts[f"active_{incumbent}"]
    return x.rolling(7).mean().shift(-6)


def outcomes(ts: pd.DataFrame, names: tuple[str, ...], incumbent: int) -> dict[str, float]:
    """Per-run outcomes (MODEL_SPEC 6) for each rival: peak active share and day, share at peak + 7/14/21
    days, final share, repeat adoptions per adopter; for the incumbent: trough and day, final share; final
    multi-homing and exit shares; cascade size (final adopters of the first rival); primary flips (changes of
    primary platform per user over the run); with an engaged segment, each rival's peak share among the
    engaged and among the other users."""
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
    if "primary_flips" in ts:
        out["primary_flips"] = float(ts["primary_flips"].iloc[-1])
    for p in rivals:
        if f"engaged_active_{p}" in ts:
            out[f"peak_engaged_{p}"] = float(ts[f"engaged_active_{p}"].max())
            out[f"peak_general_{p}"] = float(ts[f"general_active_{p}"].max())
    return out
