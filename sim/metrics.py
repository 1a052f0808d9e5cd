"""Observations per day (the time-series columns) and outcomes per run (docs/MODEL.md, 7.5 and 8)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["observe", "outcomes", "weekly_ratio"]


def observe(day: int, names: tuple[str, ...], incumbent: int, active: np.ndarray, primary: np.ndarray,
            alarm: np.ndarray, ever: np.ndarray, adoptions: np.ndarray) -> dict[str, float]:
    """One row of the time series: shares of users (all in [0, 1]; ``incumbent_only``, ``rivals_only`` and the
    incumbent's multi-homers partition the users) except ``adoptions_<p>``, the cumulative
    number of adoption events per user (equal to ``adopters_<p>`` minus the day-0 base when nobody re-adopts)."""
    n = len(alarm)
    row: dict[str, float] = {"day": day}
    columns = range(active.shape[1])  # per-column counts: numpy's row-wise reductions are slow for few columns
    counts = [np.count_nonzero(active[:, k]) for k in columns]
    prim = np.bincount(primary, minlength=len(names))
    row |= {f"active_{p}": counts[k] / n for k, p in enumerate(names)}
    row |= {f"primary_{p}": prim[k] / n for k, p in enumerate(names)}
    n_active = np.zeros(n, dtype=np.int16)
    for k in columns:
        n_active += active[:, k]
    on_inc = active[:, incumbent]
    row["multihoming"] = np.count_nonzero(n_active >= 2) / n
    row["incumbent_only"] = np.count_nonzero(on_inc & (n_active == 1)) / n
    row["rivals_only"] = np.count_nonzero(~on_inc) / n
    row[f"exit_{names[incumbent]}"] = np.count_nonzero(ever[:, incumbent] & ~active[:, incumbent]) / n
    row["mean_alarm"] = float(np.mean(alarm))
    ever_counts = [np.count_nonzero(ever[:, k]) for k in columns]
    row |= {f"adopters_{p}": ever_counts[k] / n for k, p in enumerate(names)}
    adopt_counts = [int(adoptions[:, k].sum()) for k in columns]
    row |= {f"adoptions_{p}": adopt_counts[k] / n for k, p in enumerate(names)}
    return {k: (v if k == "day" else float(v)) for k, v in row.items()}


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
