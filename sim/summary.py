"""Summary tables of a results folder: mean and 95% confidence interval of each outcome per scenario and
sweep point (MODEL_SPEC 6)."""

from __future__ import annotations

import math

import pandas as pd

from sim.intervals import mean_ci95
from sim.store import Results

__all__ = ["summarise", "summary_table"]


def _groups(results: Results) -> list[str]:
    cols = ["scenario"]
    if results.manifest.get("sweep"):
        cols += ["point"] + [c for c in results.runs.columns if c.startswith("param:")]
    return cols


def summarise(results: Results) -> pd.DataFrame:
    """One row per scenario (and sweep point): n runs and, per outcome, ``<name>`` (mean) and ``<name>_ci``
    (95% half-width, :func:`sim.intervals.mean_ci95`), in scenario order of the manifest."""
    done = results.done
    if done.empty:
        return pd.DataFrame()
    keys = _groups(results)
    skip = {"run_id", "replication", "seed_entropy", "seed_spawn_key", "status", "seconds", "error", *keys}
    outcome_cols = [c for c in done.columns if c not in skip and pd.api.types.is_numeric_dtype(done[c])]
    rows = []
    for key, grp in done.groupby(keys, sort=False, dropna=False):
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        row["runs"] = len(grp)
        for c in outcome_cols:
            row[c], row[f"{c}_ci"] = mean_ci95(grp[c])
        rows.append(row)
    table = pd.DataFrame(rows)
    order = {name: i for i, name in enumerate(results.manifest.get("scenarios", []))}
    sort_cols = ["_order"] + (["point"] if "point" in table else [])
    return (table.assign(_order=table["scenario"].map(order)).sort_values(sort_cols, kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def _pct(mean: float, half: float) -> str:
    if math.isnan(mean):
        return "-"
    return f"{100 * mean:.2f}%" + ("" if math.isnan(half) else f" ±{100 * half:.2f}")


def _day(mean: float, half: float) -> str:
    if math.isnan(mean):
        return "-"
    return f"{mean:.1f}" + ("" if math.isnan(half) else f" ±{half:.1f}")


def summary_table(results: Results) -> str:
    """The human-readable summary printed by ``sim run`` and ``sim results``."""
    table = summarise(results)
    if table.empty:
        return "no finished runs"
    m = results.manifest
    inc = m["incumbent"]
    rivals = [p for p in m["platforms"] if p != inc]
    cols: list[tuple[str, str, callable]] = []
    for p in rivals:
        cols += [(f"peak {p}", f"peak_{p}", _pct), ("day", f"peak_day_{p}", _day)]
    cols += [(f"trough {inc}", f"trough_{inc}", _pct), ("day", f"trough_day_{inc}", _day),
             ("multi-homing", "final_multihoming", _pct), (f"exit {inc}", f"final_exit_{inc}", _pct)]
    head = ["scenario"] + [c for c in table.columns if c.startswith("param:")] + ["runs"] + [c[0] for c in cols]
    body = []
    for _, row in table.iterrows():
        line = [str(row["scenario"])]
        line += [f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c])
                 for c in table.columns if c.startswith("param:")]
        line.append(str(row["runs"]))
        line += [fmt(row[key], row[f"{key}_ci"]) for _, key, fmt in cols]
        body.append(line)
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(head)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    n_failed = int((results.runs["status"] == "failed").sum())
    note = f"shares of users; ± is the 95% CI half-width across replications. runs: {len(results.done)} done"
    note += f", {n_failed} failed (see runs/*.json)" if n_failed else ""
    return "\n".join([*out, "", note])
