"""An exploration's analysis with the EMA Workbench: PRIM scenario discovery for each predicate, feature scoring
(extra trees) of the inputs for each outcome and predicate, and the policies' robustness across scenarios.

- **PRIM** (``ema_workbench.analysis.prim.Prim``, binary mode) peels the box of inputs where the predicate
  holds. Its peeling trajectory (coverage against density, restricted dimensions) is kept whole; the box
  reported is the densest one with at least ``[explore.prim] min_coverage`` (ties: the larger coverage), with
  each restricted input's limits and their quasi-p-values (EMA's one-sided binomial test, Bryant and Lempert
  2010). A predicate that holds in every run or in none has no box to find: it is reported as skipped.
- **Feature scores** (``ema_workbench.analysis.feature_scoring.get_ex_feature_scores``): extra-trees
  importances, regression for outcomes, classification for predicates, seeded from the config's seed.
- **Robustness** of each policy over the scenarios that finished under every policy: its satisficing share
  (the share of scenarios in which a predicate holds), and its regret for each outcome with a goal (in each
  scenario, its distance to the best policy there: mean, 90th percentile and maximum). The EMA Workbench
  3.0 has no ready-made satisficing or regret metric (its robust optimisation takes user functions), so these
  two are computed here from their definitions (McPhail et al. 2018).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from sim.config import Scenario
from sim.episode import observables
from sim.explore.config import NEVER, ExploreSpec
from sim.explore.design import ANALYSIS, Design, seed_of
from sim.explore.files import BoxLimit, Exploration, PrimResult
from sim.explore.outcomes import evaluate, predicate_values
from sim.store import Results

__all__ = ["analyse", "feature_scores", "prim", "robustness", "run_table"]

#: Columns of a PRIM peeling trajectory as saved.
TRAJECTORY = ("coverage", "density", "mass", "res_dim", "n", "k")


def run_table(results: Results, design: Design, base: Scenario) -> pd.DataFrame:
    """One row per finished run, in point order: ``run_id``, ``point``, ``scenario``, ``policy``, the inputs,
    each outcome (computed from the run's saved time series) and each predicate."""
    spec = design.spec
    done = results.done.sort_values("point", kind="stable")
    series = dict(iter(results.timeseries.groupby("run_id", sort=False))) if len(done) else {}
    values = pd.DataFrame([evaluate(spec.outcomes, observables(base, series[rid])) for rid in done["run_id"]],
                          columns=[o.name for o in spec.outcomes], dtype=float)
    points = design.points().set_index("point").loc[done["point"].to_numpy()].reset_index()
    table = pd.concat([done[["run_id"]].reset_index(drop=True), points, values,
                       predicate_values(spec.predicates, values)], axis=1)
    return table


def _ema() -> tuple[Any, Any, Any]:
    """EMA Workbench's Prim, extra-trees scoring and rule-induction modes, imported quietly (the package warns
    about optional parallel back ends it does not need here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis.feature_scoring import get_ex_feature_scores
        from ema_workbench.analysis.prim import Prim
        from ema_workbench.analysis.scenario_discovery_util import RuleInductionType
    return Prim, get_ex_feature_scores, RuleInductionType


def _limit(name: str, box: pd.DataFrame, full: pd.DataFrame, qp: list[float]) -> BoxLimit:
    """One restricted input of a box (EMA's box limits: row 0 the minimum, row 1 the maximum, a set of levels
    for a categorical input)."""
    q_low, q_high = (math.nan if q is None or q < 0 else float(q) for q in qp)
    low, high = box[name].iloc[0], box[name].iloc[1]
    if isinstance(low, set):
        order = sorted(full[name].iloc[0], key=str)
        return BoxLimit(name, math.nan, math.nan, math.nan, math.nan, q_low, q_high,
                        levels=tuple(v for v in order if v in low), all_levels=tuple(order))
    return BoxLimit(name, float(low), float(high), float(full[name].iloc[0]), float(full[name].iloc[1]), q_low, q_high)


def _plain(x: pd.DataFrame) -> pd.DataFrame:
    """Inputs in the types PRIM and the trees tell apart: numbers as float64, true/false as categories. Whole
    numbers (days) go as reals: EMA Workbench 3.0's pasting of an integer column writes a fractional limit into
    it, which pandas 3 refuses; as reals, a day's limit may fall between two days (day <= 36.5: up to day 36)."""
    return x.astype({c: float for c in x if pd.api.types.is_integer_dtype(x[c])} |
                    {c: object for c in x if pd.api.types.is_bool_dtype(x[c])})


def prim(x: pd.DataFrame, y: np.ndarray, name: str, text: str, spec: ExploreSpec) -> PrimResult:
    """PRIM for one predicate (``y``: whether it holds in each run of ``x``)."""
    Prim, _, _ = _ema()
    y = np.asarray(y, dtype=int)
    cases, runs = int(y.sum()), len(y)
    if cases in (0, runs):
        why = "it holds in no run" if cases == 0 else "it holds in every run"
        return PrimResult(name, text, cases, runs, skipped=f"{why}: no box to find")
    settings = spec.prim
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The inplace keyword")  # EMA's own use of pandas
        found = Prim(_plain(x), y, peel_alpha=settings.peel_alpha, paste_alpha=settings.peel_alpha,
                     mass_min=settings.mass_min).find_box()
    trajectory = found.peeling_trajectory[list(TRAJECTORY)].astype(float).reset_index(drop=True)
    eligible = trajectory[trajectory["coverage"] >= settings.min_coverage - 1e-12]
    chosen = int(eligible.sort_values(["density", "coverage"], ascending=False, kind="stable").index[0])
    box, full = found.box_lims[chosen], found.box_lims[0]
    limits = tuple(_limit(dim, box, full, qp) for dim, qp in found.p_values[chosen].items())
    return PrimResult(name, text, cases, runs, trajectory, chosen, limits)


def feature_scores(x: pd.DataFrame, targets: pd.DataFrame, classify: list[str], seed: int) -> pd.DataFrame:
    """Extra-trees importance of each input (rows) for each target column (regression, or classification for
    the columns in ``classify``); NaN for a target that does not vary. Runs with a NaN target are left out."""
    _, get_ex_feature_scores, mode = _ema()
    x = _plain(x)
    out = pd.DataFrame(index=pd.Index(x.columns, name="input"), dtype=float)
    for column in targets:
        y = targets[column]
        keep = y.notna().to_numpy()
        if y[keep].nunique() < 2:
            out[column] = math.nan
            continue
        kind = mode.CLASSIFICATION if column in classify else mode.REGRESSION
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # sklearn: a few runs without out-of-bag trees
            scores, _ = get_ex_feature_scores(x[keep], y[keep].to_numpy(dtype=int if column in classify else float),
                                              mode=kind, max_features=max(1, round(x.shape[1] / 3)),
                                              random_state=seed)
        out[column] = scores[1].reindex(x.columns)
    return out


def robustness(table: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Per policy (rows, with its lever values): the number of scenarios compared, the share of them in which
    each predicate holds (``satisficing:<predicate>``) and, for each outcome with a goal, its mean
    (``mean:<outcome>``) and its regret's mean, 90th percentile and maximum (``regret_mean:``, ``regret_p90:``,
    ``regret_max:<outcome>``), over the scenarios that finished under every policy."""
    spec = design.spec
    m = len(design.policies)
    whole = table.groupby("scenario")["policy"].transform("size") == m
    t = table[whole]
    out = design.policies.copy()
    out["scenarios"] = t.groupby("policy").size().reindex(out.index, fill_value=0)
    for p in spec.predicates:
        out[f"satisficing:{p.name}"] = t.groupby("policy")[p.name].mean().reindex(out.index)
    for o in spec.outcomes:
        if not o.goal:
            continue
        wide = t.pivot(index="scenario", columns="policy", values=o.name).dropna()
        best = wide.min(axis=1) if o.goal == "min" else wide.max(axis=1)
        regret = wide.sub(best, axis=0).abs()
        out[f"mean:{o.name}"] = wide.mean().reindex(out.index)
        out[f"regret_mean:{o.name}"] = regret.mean().reindex(out.index)
        out[f"regret_p90:{o.name}"] = regret.quantile(0.9).reindex(out.index)
        out[f"regret_max:{o.name}"] = regret.max().reindex(out.index)
    return out


def analyse(table: pd.DataFrame, design: Design, root_seed: int, failed: int) -> Exploration:
    """The whole analysis of an exploration's run table (:func:`run_table`); ``failed``: runs that failed."""
    spec = design.spec
    x = table[design.inputs]
    found = {p.name: prim(x, table[p.name].to_numpy(), p.name, p.text, spec) for p in spec.predicates}
    outcomes = [o.name for o in spec.outcomes]
    predicates = [p.name for p in spec.predicates]
    seed = int(seed_of(root_seed, ANALYSIS).generate_state(1)[0])
    scores = feature_scores(x, table[outcomes + predicates], predicates, seed)
    robust = robustness(table, design)
    never = {d.name: spec.never_day for d in spec.levers if NEVER in d.levels}
    counts = {"runs": len(table), "failed": failed, "scenarios": spec.scenarios, "policies": spec.policies,
              "scenarios_compared": int(robust["scenarios"].max()) if len(robust) else 0}
    settings = {"prim": dataclasses.asdict(spec.prim) | {"algorithm": "ema_workbench.analysis.prim.Prim"},
                "feature_scoring": {"algorithm": "ema_workbench get_ex_feature_scores (extra trees)",
                                    "random_state": seed},
                "explore": spec.resolved()}
    return Exploration(runs=table, uncertainties=tuple(design.scenarios.columns), levers=tuple(design.policies.columns),
                       outcomes={o.name: {"value": o.text, "kind": o.kind, "goal": o.goal} for o in spec.outcomes},
                       predicates={p.name: p.text for p in spec.predicates}, never=never, prim=found, scores=scores,
                       robustness=robust, counts=counts, settings=settings)
