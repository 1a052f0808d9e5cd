"""Summary tables of a results folder: mean and 95% confidence interval of each outcome per scenario and
sweep point (MODEL_SPEC 6); for a prediction (``sim predict``), the median and the 50% and 90% predictive
intervals of each outcome per scenario."""

from __future__ import annotations

import math

import pandas as pd

from sim.intervals import mean_ci95
from sim.store import Results

__all__ = ["is_prediction", "predictive_summary", "summarise", "summary_table"]

#: Quantiles of a predictive summary: the 90 % and 50 % intervals and the median.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def is_prediction(results: Results) -> bool:
    """Whether the folder holds a prediction: one run per posterior draw (``sim predict``)."""
    sweep = results.manifest.get("sweep") or {}
    return sweep.get("method") == "posterior"


def _outcomes(done: pd.DataFrame, skip: set[str]) -> list[str]:
    return [c for c in done.columns if c not in skip and not c.startswith("param:")
            and pd.api.types.is_numeric_dtype(done[c])]


def predictive_summary(results: Results) -> pd.DataFrame:
    """One row per scenario of a prediction: draws and, per outcome, ``<name>_q05`` .. ``<name>_q95`` (the
    quantiles of :data:`QUANTILES` over the draws' runs)."""
    done = results.done
    if done.empty:
        return pd.DataFrame()
    skip = {"run_id", "replication", "point", "seed_entropy", "seed_spawn_key", "status", "seconds", "error",
            "scenario"}
    rows = []
    for scenario, grp in done.groupby("scenario", sort=False):
        row: dict[str, object] = {"scenario": scenario, "draws": len(grp)}
        for c in _outcomes(done, skip):
            values = grp[c].dropna().to_numpy(dtype=float)
            for q in QUANTILES:
                row[f"{c}_q{round(100 * q):02d}"] = float(pd.Series(values).quantile(q)) if len(values) else math.nan
        rows.append(row)
    order = {name: i for i, name in enumerate(results.manifest.get("scenarios", []))}
    table = pd.DataFrame(rows)
    return table.assign(_o=table["scenario"].map(order)).sort_values("_o").drop(columns="_o").reset_index(drop=True)


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


def _predictive_table(results: Results) -> str:
    table = predictive_summary(results)
    m = results.manifest
    inc = m["incumbent"]
    keys = [(f"peak_{p}", f"peak {p}", True) for p in m["platforms"] if p != inc]
    keys += [(f"trough_{inc}", f"trough {inc}", True), ("final_multihoming", "multi-homing", True)]
    observed = m.get("config_resolved", {}).get("observed", {})
    percent = {f"{kind[:-1]}_{t['id']}": bool(t.get("percent")) for kind in ("targets", "forecasts")
               for t in observed.get(kind, [])}
    keys += [(c[:-4], c[:-4].replace("_", " ", 1), percent.get(c[:-4], False))
             for c in table.columns if c.endswith("_q50") and c.startswith(("target_", "forecast_"))]
    lines = ["prediction: median [50% interval] [90% interval] over the posterior draws (one run each)", ""]
    for _, row in table.iterrows():
        lines.append(f"scenario {row['scenario']} ({row['draws']} draws)")
        for key, label, share in keys:
            if f"{key}_q50" not in row:
                continue
            q = [row[f"{key}_q{round(100 * p):02d}"] for p in QUANTILES]
            fmt = (lambda v: f"{100 * v:.2f}%") if share else (lambda v: f"{v:.4g}")
            lines.append(f"  {label:<32} {fmt(q[2]):>9}  [{fmt(q[1])}, {fmt(q[3])}]  [{fmt(q[0])}, {fmt(q[4])}]")
        lines.append("")
    source = m.get("sweep", {}) or {}
    lines.append(f"posterior: {source.get('posterior', '?')}; runs: {len(results.done)} done")
    return "\n".join(lines)


def summary_table(results: Results) -> str:
    """The human-readable summary printed by ``sim run``, ``sim predict`` and ``sim results``."""
    if is_prediction(results):
        return _predictive_table(results) if not results.done.empty else "no finished runs"
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
