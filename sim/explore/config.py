"""The ``[explore]`` table of an experiment config: what an exploration samples (uncertainties), what its
policies choose (levers), what each run is judged by (outcomes) and what is asked of them (predicates).

```toml
[explore]
scenarios = 1000                 # Latin-hypercube samples of the uncertainties (sim explore --scenarios)
policies = 8                     # the reference (the config's own choices) and 7 samples of the levers
posterior = ""                   # or a posterior.parquet: its draws are the scenarios' values of its keys

[explore.uncertainties]          # dotted key = {low, high} or [levels]; a factor scales several keys
"behaviour.mu" = { low = 0.0, high = 1.0 }
news = { low = 0.5, high = 1.0, scales = ["events.a.intensity", "events.b.intensity"] }

[explore.levers]                 # dotted key = [levels] or {low, high}; an event's day may be "never"
"events.apology.day" = [17, 31, 42, "never"]
"events.apology.credibility" = { low = 0.1, high = 0.7 }

[explore.outcomes]               # name = an expression giving one number, or a built-in kind
peak = { kind = "peak", platform = "rival", goal = "min" }
late = "at(active.rival, 90)"

[explore.predicates]             # name = "<outcome> <op> <number>[%]", or a list that must all hold
small = ["peak < 5%", "loss < 0.5%"]
```

Everything is checked when the config loads, before any run: every lever and uncertainty value alone must
build a valid scenario, every expression must parse against the config's platforms, every predicate must
name declared outcomes. An error is one line naming the file, the key, what was expected and what was found.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.config import ConfigError, Scenario, apply_overrides, build_scenario
from sim.config.schema import IDENTIFIER, param
from sim.config.validation import did_you_mean
from sim.explore.outcomes import OUTCOME_KINDS, Outcome, Predicate, builtin_expression, parse_clause
from sim.expressions import ExpressionError, parse
from sim.fit.problem import config_value
from sim.sampling import LevelsParameter, Parameter, RealParameter

__all__ = ["NEVER", "Dimension", "ExploreSpec", "PrimSettings", "parse_explore", "posterior_path", "with_size"]

#: The level of an event's day lever for an event that does not happen.
NEVER = "never"
#: Column names of an exploration's run table that no outcome, predicate or factor may take.
RESERVED = ("run_id", "point", "scenario", "policy")
_EVENT_DAY = re.compile(r"events\.([^.]+)\.day")


@dataclass(frozen=True)
class PrimSettings:
    """How PRIM peels (EMA Workbench's ``Prim``) and which box of its peeling trajectory is reported."""

    min_coverage: float = param(0.5, "the reported box is the densest on the peeling trajectory with at least this "
                                     "coverage (ties: the larger coverage)", lo=0.0, hi=1.0)
    peel_alpha: float = param(0.05, "share of the runs in the box peeled off (or pasted back) at each step",
                              lo=0.001, hi=0.5)
    mass_min: float = param(0.05, "smallest share of all runs a box may hold", lo=0.0, hi=1.0)


@dataclass(frozen=True)
class Dimension:
    """One sampled input: a dotted config key (or, for a factor, a name and the keys it ``scales``) over
    ``levels`` or the range [``low``, ``high``] (whole numbers if ``integer``)."""

    name: str
    low: float = math.nan
    high: float = math.nan
    levels: tuple[Any, ...] = ()
    integer: bool = False
    scales: tuple[str, ...] = ()

    def parameter(self) -> Parameter:
        """The dimension for :func:`sim.sampling.latin_hypercube`: its levels, the whole numbers of its range,
        or its real range."""
        if self.levels:
            return LevelsParameter(self.name, self.levels)
        if self.integer:
            return LevelsParameter(self.name, tuple(range(int(self.low), int(self.high) + 1)))
        return RealParameter(self.name, self.low, self.high)

    def resolved(self) -> Any:
        """As written in a resolved config: the levels, or ``{low, high[, scales]}``."""
        if self.levels:
            return list(self.levels)
        bounds = (int(self.low), int(self.high)) if self.integer else (self.low, self.high)
        return {"low": bounds[0], "high": bounds[1], **({"scales": list(self.scales)} if self.scales else {})}


@dataclass(frozen=True)
class ExploreSpec:
    """A checked ``[explore]`` table (module docstring)."""

    scenarios: int = param(100, "scenarios: Latin-hypercube samples of the uncertainties, or posterior draws "
                                "(sim explore --scenarios overrides it)", lo=1)
    policies: int = param(8, "policies: the reference (if kept) and Latin-hypercube samples of the levers "
                             "(--policies overrides it; 1 without levers)", lo=1)
    reference: bool = param(True, "keep the config's own lever values as the first policy, 'reference'")
    posterior: str = param("", "a posterior.parquet (relative to the config): each scenario is one of its draws "
                               "(applied as sim predict does) besides the uncertainties' samples")
    uncertainties: tuple[Dimension, ...] = ()
    levers: tuple[Dimension, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    predicates: tuple[Predicate, ...] = ()
    prim: PrimSettings = field(default_factory=PrimSettings)
    #: The config's last day: a lever's "never" is coded as the day after it in the analysis.
    last_day: int = 0

    @property
    def never_day(self) -> int:
        """The number a day lever's "never" stands for in the analysis: the day after the last."""
        return self.last_day + 1

    def design(self) -> dict[str, Any]:
        """What decides the runs (sizes, reference, posterior, uncertainties, levers), as plain data: the
        exploration's part of its experiment's identity (config hash, results folder). Outcomes, predicates
        and PRIM settings are the analysis's: changing them analyses the same runs again."""
        return {"scenarios": self.scenarios, "policies": self.policies, "reference": self.reference,
                "posterior": self.posterior,
                "uncertainties": {d.name: d.resolved() for d in self.uncertainties},
                "levers": {d.name: d.resolved() for d in self.levers}}

    def resolved(self) -> dict[str, Any]:
        """The whole table as resolved (built-in outcomes written out), as plain data."""
        return self.design() | {
            "outcomes": {o.name: {"kind": o.kind, "value": o.text, "goal": o.goal} for o in self.outcomes},
            "predicates": {p.name: p.text for p in self.predicates}, "prim": dataclasses.asdict(self.prim)}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalars(cls: type, table: Mapping[str, Any], prefix: str, where: str) -> dict[str, Any]:
    """The scalar keys of ``table`` that are fields of ``cls``, checked against their type and range."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in table or "doc" not in f.metadata or f.type not in ("int", "float", "bool", "str"):
            continue
        value, key = table[f.name], f"{prefix}.{f.name}"
        kind = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "a string"}[f.type]
        ok = {"int": isinstance(value, int) and not isinstance(value, bool), "float": _is_number(value),
              "bool": isinstance(value, bool), "str": isinstance(value, str)}[f.type]
        if not ok or (f.type == "float" and not math.isfinite(value)):
            raise ConfigError(f"key '{key}' in {where}: expected {kind}, got {value!r}")
        lo, hi = f.metadata["lo"], f.metadata["hi"]
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            span = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
            raise ConfigError(f"key '{key}' in {where}: expected a value {span}, got {value!r}")
        out[f.name] = float(value) if f.type == "float" else value
    return out


def _table(raw: Any, key: str, where: str, what: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"key '{key}' in {where}: expected a table of {what}, got {raw!r}")
    return raw


def _known(table: Mapping[str, Any], valid: tuple[str, ...], prefix: str, where: str) -> None:
    for key in table:
        if key not in valid:
            raise ConfigError(f"unknown key '{prefix}.{key}' in {where}{did_you_mean(key, valid)} (valid keys: "
                              f"{', '.join(valid)})")


class _Checker:
    """Checks values against the config: each applied alone to its data must build a scenario."""

    def __init__(self, data: dict[str, Any], base: Scenario, where: str) -> None:
        self.data, self.base, self.where = data, base, where

    def builds(self, overrides: dict[str, Any], label: str) -> None:
        build_scenario(apply_overrides(self.data, overrides, label), label, base_dir=self.base.base_dir)

    def value(self, key: str) -> Any:
        """The configured value of a dotted key (KeyError if the config has none)."""
        return config_value(self.base, key)


def _dimension(key: str, spec: Any, kind: str, check: _Checker) -> Dimension:
    where, full = check.where, f"explore.{kind}.\"{key}\""
    if key.startswith("experiment."):
        raise ConfigError(f"key {full} in {where}: '{key}' holds for the whole exploration and cannot vary")
    label = f"{where} [explore.{kind}] {key}"
    if isinstance(spec, list):
        if not spec:
            raise ConfigError(f"key {full} in {where}: expected a non-empty list of values, got []")
        if "." not in key:
            raise ConfigError(f"key {full} in {where}: expected a dotted config key (e.g. behaviour.mu) for a list "
                              "of values; a named factor takes {low, high, scales}")
        for level in spec:
            if level == NEVER:
                _check_never(key, full, kind, check)
            else:
                _check_day(key, level, full, check)
                check.builds({key: level}, f"{label} = {level!r}")
        return Dimension(key, levels=tuple(spec))
    allowed = ("low", "high", "scales") if kind == "uncertainties" else ("low", "high")
    if not isinstance(spec, Mapping) or set(spec) - set(allowed) or not {"low", "high"} <= set(spec):
        shape = "{low, high} or {low, high, scales}" if kind == "uncertainties" else "{low, high}"
        raise ConfigError(f"key {full} in {where}: expected a list of values or {shape}, got {spec!r}")
    low, high = spec["low"], spec["high"]
    if not (_is_number(low) and _is_number(high) and math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(f"key {full} in {where}: expected finite numbers low and high, got {dict(spec)!r}")
    if low > high:
        raise ConfigError(f"key {full} in {where}: low ({low}) exceeds high ({high})")
    if "scales" in spec:
        return _factor(key, spec["scales"], float(low), float(high), full, check)
    if "." not in key:
        raise ConfigError(f"key {full} in {where}: expected a dotted config key (e.g. behaviour.mu), or scales for "
                          "a factor")
    try:
        configured = check.value(key)
    except KeyError:
        configured = None  # not in the config as resolved: the build below says why
    integer = isinstance(configured, int) and not isinstance(configured, bool)
    if integer and not (float(low).is_integer() and float(high).is_integer()):
        raise ConfigError(f"key {full} in {where}: '{key}' is a whole number; expected whole low and high, got "
                          f"{dict(spec)!r}")
    for bound in (low, high):
        _check_day(key, bound, full, check)
        check.builds({key: int(bound) if integer else bound}, f"{label} = {bound!r}")
    return Dimension(key, float(low), float(high), integer=integer)


def _factor(name: str, scales: Any, low: float, high: float, full: str, check: _Checker) -> Dimension:
    where = check.where
    if not re.fullmatch(IDENTIFIER[0], name):
        raise ConfigError(f"key {full} in {where}: a factor (with scales) is named by {IDENTIFIER[1]}, got {name!r}")
    if name in RESERVED:
        raise ConfigError(f"key {full} in {where}: '{name}' names a column of the run table; choose another name")
    if not isinstance(scales, list) or not scales or not all(isinstance(k, str) and "." in k for k in scales):
        raise ConfigError(f"key {full}.scales in {where}: expected a non-empty list of dotted config keys, got "
                          f"{scales!r}")
    for key in scales:
        try:
            configured = check.value(key)
        except KeyError:
            raise ConfigError(f"key {full}.scales in {where}: the config has no value of '{key}' to scale") from None
        if not _is_number(configured):
            raise ConfigError(f"key {full}.scales in {where}: '{key}' is {configured!r}, not a number to scale")
        for bound in (low, high):
            check.builds({key: configured * bound}, f"{where} [explore.uncertainties] {name} = {bound!r} on {key}")
    return Dimension(name, low, high, scales=tuple(scales))


def _check_day(key: str, value: Any, full: str, check: _Checker) -> None:
    """An event's day must fall within the run: a later one never comes, which "never" says plainly."""
    last = check.base.experiment.steps
    if _EVENT_DAY.fullmatch(key) and _is_number(value) and value > last:
        raise ConfigError(f"key {full} in {check.where}: day {value} is after the run's last day ({last}); "
                          f"expected a day <= {last}, or \"{NEVER}\" for an event that does not happen")


def _check_never(key: str, full: str, kind: str, check: _Checker) -> None:
    """"never" is a level of an enabled event's day lever only."""
    match = _EVENT_DAY.fullmatch(key)
    if kind != "levers" or match is None:
        raise ConfigError(f"key {full} in {check.where}: \"{NEVER}\" is a level of a lever on an event's day "
                          f"(events.<id>.day) only")
    eid = match.group(1)
    if eid not in {e.id for e in check.base.events}:
        ids = [e.id for e in check.base.events]
        raise ConfigError(f"key {full} in {check.where}: no enabled event '{eid}' in the config"
                          f"{did_you_mean(eid, ids)} (a lever on its day needs it enabled)")


def _outcome(name: str, spec: Any, check: _Checker) -> Outcome:
    base, where, full = check.base, check.where, f"explore.outcomes.{name}"
    if not re.fullmatch(IDENTIFIER[0], name) or name in RESERVED:
        raise ConfigError(f"key '{full}' in {where}: expected {IDENTIFIER[1]} other than {', '.join(RESERVED)} as "
                          "an outcome's name")
    platforms = base.platform_names
    incumbent = platforms[base.incumbent]
    rivals = [p for p in platforms if p != incumbent]
    if isinstance(spec, str):
        spec = {"value": spec}
    if not isinstance(spec, Mapping):
        raise ConfigError(f"key '{full}' in {where}: expected an expression or a table {{kind = ...}}, got {spec!r}")
    goal = spec.get("goal", "")
    if goal not in ("", "min", "max"):
        raise ConfigError(f"key '{full}.goal' in {where}: expected 'min' or 'max', got {goal!r}")
    if "value" in spec:
        _known(spec, ("value", "goal"), full, where)
        text = spec["value"]
        if not isinstance(text, str):
            raise ConfigError(f"key '{full}.value' in {where}: expected an expression (a string), got {text!r}")
        try:
            expression = parse(text, platforms)
        except ExpressionError as exc:
            raise ConfigError(f"key '{full}' in {where}: {exc}") from None
        if expression.is_series:
            raise ConfigError(f"key '{full}' in {where}: expected an expression giving one number (e.g. "
                              f"max(..., 0, {base.experiment.steps})), got a series: {text!r}")
        return Outcome(name, expression.text, "expression", goal)
    kind = spec.get("kind")
    if kind not in OUTCOME_KINDS:
        raise ConfigError(f"key '{full}.kind' in {where}: expected one of {', '.join(OUTCOME_KINDS)} (or give "
                          f"value = an expression), got {kind!r}{did_you_mean(str(kind), OUTCOME_KINDS)}")
    _known(spec, ("kind", "goal", *OUTCOME_KINDS[kind]), full, where)
    platform = spec.get("platform", rivals[0])
    if platform not in rivals:
        raise ConfigError(f"key '{full}.platform' in {where}: expected a rival ({', '.join(rivals)}), got "
                          f"{platform!r}{did_you_mean(str(platform), rivals)}")
    days = spec.get("days", 0)
    if kind == "after" and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
        raise ConfigError(f"key '{full}.days' in {where}: expected a whole number of days >= 1 after the peak, got "
                          f"{spec.get('days')!r}")
    return Outcome(name, builtin_expression(kind, platform, days, incumbent, base.experiment.steps), kind, goal)


def _predicate(name: str, spec: Any, outcomes: list[str], where: str) -> Predicate:
    full = f"explore.predicates.{name}"
    if not re.fullmatch(IDENTIFIER[0], name) or name in RESERVED:
        raise ConfigError(f"key '{full}' in {where}: expected {IDENTIFIER[1]} other than {', '.join(RESERVED)} as "
                          "a predicate's name")
    texts = [spec] if isinstance(spec, str) else spec
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise ConfigError(f"key '{full}' in {where}: expected a clause such as 'loss > 1%' or a non-empty list of "
                          f"them, got {spec!r}")
    clauses = []
    for text in texts:
        try:
            clause = parse_clause(text)
        except ValueError as exc:
            raise ConfigError(f"key '{full}' in {where}: {exc}") from None
        if clause.outcome not in outcomes:
            raise ConfigError(f"key '{full}' in {where}: no outcome '{clause.outcome}' is declared"
                              f"{did_you_mean(clause.outcome, outcomes)} (outcomes: {', '.join(outcomes)})")
        clauses.append(clause)
    return Predicate(name, " and ".join(" ".join(t.split()) for t in texts), tuple(clauses))


def parse_explore(raw: Any, where: str, data: dict[str, Any], base: Scenario) -> ExploreSpec:
    """Check an ``[explore]`` table of config ``where`` (its data ``data``, built as ``base``) into an
    :class:`ExploreSpec`. ConfigError, one line, for the first problem found."""
    if raw is None:
        raise ConfigError(f"{where} has no [explore] table: declare its uncertainties, levers and outcomes "
                          "(docs/POLICY.md)")
    table = _table(raw, "explore", where, "exploration settings")
    spec = ExploreSpec()
    _known(table, tuple(f.name for f in dataclasses.fields(ExploreSpec) if f.name != "last_day"), "explore", where)
    scalars = _scalars(ExploreSpec, table, "explore", where)
    check = _Checker(data, base, where)
    dims: dict[str, list[Dimension]] = {}
    for kind in ("uncertainties", "levers"):
        body = _table(table.get(kind, {}), f"explore.{kind}", where, "dotted keys")
        dims[kind] = [_dimension(str(key), value, kind, check) for key, value in body.items()]
    both = sorted({d.name for d in dims["uncertainties"]} & {d.name for d in dims["levers"]})
    if both:
        raise ConfigError(f"key 'explore.levers.\"{both[0]}\"' in {where}: '{both[0]}' is also an uncertainty; a "
                          "key is either chosen or uncertain")
    _check_never_and_enabled(dims["levers"], where)
    if not dims["uncertainties"] and not scalars.get("posterior"):
        raise ConfigError(f"key 'explore' in {where}: nothing is uncertain; declare [explore.uncertainties] or a "
                          "posterior")
    outcomes_raw = _table(table.get("outcomes", {}), "explore.outcomes", where, "outcomes")
    outcomes = [_outcome(str(name), value, check) for name, value in outcomes_raw.items()]
    if not outcomes:
        raise ConfigError(f"key 'explore.outcomes' in {where}: declare at least one outcome (e.g. peak = "
                          "{kind = \"peak\"})")
    names = [o.name for o in outcomes]
    predicates_raw = _table(table.get("predicates", {}), "explore.predicates", where, "predicates")
    predicates = [_predicate(str(name), value, names, where) for name, value in predicates_raw.items()]
    factors = [d.name for d in dims["uncertainties"] if d.scales]
    clash = next((n for n in names if n in factors), None)
    if clash:
        raise ConfigError(f"key 'explore.outcomes.{clash}' in {where}: '{clash}' already names a factor; choose "
                          "another name")
    clash = next((p.name for p in predicates if p.name in names + factors), None)
    if clash:
        raise ConfigError(f"key 'explore.predicates.{clash}' in {where}: '{clash}' already names an outcome or a "
                          "factor; choose another name")
    prim_raw = _table(table.get("prim", {}), "explore.prim", where, "PRIM settings")
    _known(prim_raw, tuple(f.name for f in dataclasses.fields(PrimSettings)), "explore.prim", where)
    prim = PrimSettings(**_scalars(PrimSettings, prim_raw, "explore.prim", where))
    spec = dataclasses.replace(spec, **scalars, uncertainties=tuple(dims["uncertainties"]),
                               levers=tuple(dims["levers"]), outcomes=tuple(outcomes), predicates=tuple(predicates),
                               prim=prim, last_day=base.experiment.steps)
    if not spec.levers and "policies" not in scalars:
        spec = dataclasses.replace(spec, policies=1)
    return with_size(spec, spec.scenarios, spec.policies, f"key 'explore.policies' in {where}")


def with_size(spec: ExploreSpec, scenarios: int, policies: int, what: str) -> ExploreSpec:
    """``spec`` with ``scenarios`` and ``policies``; ConfigError (naming ``what``) if the levers cannot give
    that many policies."""
    if not spec.levers and policies != 1:
        raise ConfigError(f"{what}: no levers are declared, so there is one policy (the config as it is); got "
                          f"{policies}")
    if not spec.reference and not spec.levers:
        raise ConfigError(f"{what}: with reference = false the policies are samples of the levers, and none are "
                          "declared")
    return dataclasses.replace(spec, scenarios=scenarios, policies=policies)


def _check_never_and_enabled(levers: list[Dimension], where: str) -> None:
    """An event's day lever with "never" and a lever on its ``enabled`` would contradict each other."""
    names = {d.name for d in levers}
    for d in levers:
        match = _EVENT_DAY.fullmatch(d.name)
        if match and NEVER in d.levels and f"events.{match.group(1)}.enabled" in names:
            raise ConfigError(f"key 'explore.levers.\"events.{match.group(1)}.enabled\"' in {where}: the event's day "
                              f"lever has \"{NEVER}\" already; drop one of the two levers")


def posterior_path(spec: ExploreSpec, config: str | Path) -> Path:
    """The posterior file named by ``spec`` (relative to the config's folder)."""
    return Path(config).parent / spec.posterior
