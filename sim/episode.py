"""An episode as data: its observed series and its targets, declared in a config's ``[observed]`` table.

An episode is an experiment config (platforms, population, network, dated events), its data files (CSV,
in the folder ``observed.folder`` beside the config) and its targets: the numbered patterns of the data's
README, each an expression of one run's time series with the data's range (sim/expressions.py). Plots,
``sim validate`` and calibration read episodes through this module only; nothing in the package names an
episode.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.loading import read_toml_file
from sim.config.schema import ConfigError, Forecast, ObservedSeries, Scenario, Target
from sim.expressions import Expression, ExpressionError, Observables, parse

__all__ = ["ObservedData", "check", "episode_configs", "load_series", "observables", "panels", "reads_monthly",
           "target_values"]


@dataclass(frozen=True)
class ObservedData:
    """One observed series as loaded: its spec, its days and its values in the model's units."""

    spec: ObservedSeries
    days: np.ndarray
    values: np.ndarray
    model: Expression


def _filters(items: tuple[str, ...], key: str, where: str) -> dict[str, str]:
    out = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            raise ConfigError(f"key '{key}' in {where}: expected filters 'column=value', got {item!r}")
        out[column.strip()] = value.strip()
    return out


@functools.lru_cache(maxsize=64)
def _read_csv(path_text: str, stamp: tuple[int, int]) -> pd.DataFrame:
    return pd.read_csv(path_text, dtype=str, keep_default_na=False)


def _table(path: Path, key: str, where: str) -> pd.DataFrame:
    if not path.is_file():
        raise ConfigError(f"key '{key}' in {where}: data file not found: {path}")
    stat = path.stat()
    try:
        return _read_csv(str(path), (stat.st_mtime_ns, stat.st_size))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"key '{key}' in {where}: {path} is not UTF-8 text (offset {exc.start})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"key '{key}' in {where}: {path} is not a CSV table: {exc}") from None


def _rows(table: pd.DataFrame, filters: Mapping[str, str], key: str, path: Path, where: str) -> pd.DataFrame:
    for column, value in filters.items():
        if column not in table:
            raise ConfigError(f"key '{key}' in {where}: {path} has no column {column!r} (columns: "
                              f"{', '.join(table.columns)})")
        table = table[table[column] == value]
    return table


def _numbers(rows: pd.DataFrame, column: str, key: str, path: Path, where: str) -> np.ndarray:
    if column not in rows:
        raise ConfigError(f"key '{key}' in {where}: {path} has no column {column!r} (columns: "
                          f"{', '.join(rows.columns)})")
    values = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(values).all():
        bad = rows[column].to_numpy()[~np.isfinite(values)][0]
        raise ConfigError(f"key '{key}' in {where}: {path} column {column!r}: expected numbers, got {bad!r}")
    return values


def load_series(scenario: Scenario, spec: ObservedSeries, where: str | None = None) -> ObservedData:
    """The rows of one observed series, in the model's units, with the model expression they compare with."""
    where = where or scenario.source
    key = f"observed.series.{spec.id}"
    path = Path(scenario.base_dir) / scenario.observed.folder / spec.file
    table = _table(path, f"{key}.file", where)
    rows = _rows(table, _filters(spec.where, f"{key}.where", where), f"{key}.where", path, where)
    if rows.empty:
        raise ConfigError(f"key '{key}.where' in {where}: no row of {path} matches {list(spec.where)}")
    days = _numbers(rows, spec.day, f"{key}.day", path, where)
    values = _numbers(rows, spec.value, f"{key}.value", path, where) * spec.scale / spec.per
    if spec.divide_by:
        below = _rows(table, _filters(spec.divide_by, f"{key}.divide_by", where), f"{key}.divide_by", path, where)
        by_day = dict(zip(_numbers(below, spec.day, f"{key}.day", path, where),
                          _numbers(below, spec.value, f"{key}.value", path, where) * spec.scale / spec.per,
                          strict=True))
        missing = [d for d in days if d not in by_day]
        if missing:
            raise ConfigError(f"key '{key}.divide_by' in {where}: {path} has no row matching "
                              f"{list(spec.divide_by)} on day {missing[0]:g}")
        values = values / np.array([by_day[d] for d in days])
    try:
        model = parse(spec.model, scenario.platform_names)
    except ExpressionError as exc:
        raise ConfigError(f"key '{key}.model' in {where}: {exc}") from None
    if not model.is_series:
        raise ConfigError(f"key '{key}.model' in {where}: expected a series (one value a day), got a number")
    return ObservedData(spec=spec, days=days.astype(int) + spec.shift, values=values, model=model)


def _target_expression(scenario: Scenario, target: Target | Forecast, where: str) -> Expression:
    key = f"observed.{'targets' if isinstance(target, Target) else 'forecasts'}.{target.id}.value"
    try:
        expression = parse(target.value, scenario.platform_names)
    except ExpressionError as exc:
        raise ConfigError(f"key '{key}' in {where}: {exc}") from None
    if expression.is_series:
        raise ConfigError(f"key '{key}' in {where}: expected a number (e.g. at(...), mean(...)), got a series")
    return expression


def check(scenario: Scenario, where: str) -> None:
    """Every observed series reads and every expression parses (ConfigError otherwise), before any run."""
    observed = scenario.observed
    for label, items in (("series", observed.series), ("targets", observed.targets),
                         ("forecasts", observed.forecasts)):
        ids = [item.id for item in items]
        if any(not i for i in ids):
            raise ConfigError(f"key 'observed.{label}' in {where}: every entry needs an id")
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ConfigError(f"key 'observed.{label}' in {where}: ids must be unique, repeated: "
                              f"{', '.join(repeated)}")
    for spec in observed.series:
        load_series(scenario, spec, where)
    for forecast in observed.forecasts:
        _target_expression(scenario, forecast, where)
    for target in observed.targets:
        _target_expression(scenario, target, where)
        if target.low is not None and target.high is not None and target.low > target.high:
            raise ConfigError(f"key 'observed.targets.{target.id}' in {where}: low ({target.low}) exceeds high "
                              f"({target.high})")


def episode_configs(folder: Path = Path("experiments")) -> list[Path]:
    """The episodes in ``folder`` (default: ./experiments), in the order of their start dates (then names):
    the configs whose own file declares an ``[observed]`` table with targets. Configs that inherit one through
    ``extends`` (a sweep, a full-scale copy) are variants of an episode, not episodes; a config that does not
    parse is an error (ConfigError)."""
    found = []
    for path in sorted(folder.glob("*.toml")):
        raw = read_toml_file(path)
        observed = raw.get("observed")
        if isinstance(observed, dict) and observed.get("targets"):
            experiment = raw.get("experiment", {})
            start = experiment.get("start_date", "") if isinstance(experiment, dict) else ""
            found.append((str(start), path.stem, path))
    return [path for _, _, path in sorted(found)]


def panels(observed: list[ObservedData]) -> dict[str, list[ObservedData]]:
    """The observed series grouped for figures: one panel per kind of data and the platforms its model reads
    (e.g. all windows of one rival's installs), titled by them, in the order the series are declared."""
    out: dict[str, list[ObservedData]] = {}
    for data in observed:
        platforms = sorted({p for _, p in data.model.names if p is not None})
        title = f"{data.spec.kind.replace('_', ' ')}: {', '.join(platforms) or 'all users'}"
        out.setdefault(title, []).append(data)
    return out


def reads_monthly(scenario: Scenario) -> bool:
    """Whether any of the scenario's observed series or targets reads 30-day active users (``monthly.p``), so
    that its runs must keep the day each user last stopped using each platform."""
    texts = [s.model for s in scenario.observed.series] + [t.value for t in scenario.observed.targets]
    return any(family == "monthly" for text in texts for family, _ in parse(text, scenario.platform_names).names)


def observables(scenario: Scenario, series: pd.DataFrame) -> Observables:
    """What expressions read of one run's time series."""
    return Observables(series=series, platforms=scenario.platform_names,
                       incumbent=scenario.platform_names[scenario.incumbent],
                       daily_primary=scenario.observed.daily_primary,
                       daily_secondary=scenario.observed.daily_secondary)


def target_values(scenario: Scenario, series: pd.DataFrame, forecasts: bool = False) -> dict[str, float]:
    """Each target's value (with ``forecasts``: each forecast's) on one run's time series (NaN where the run
    is too short for it)."""
    obs = observables(scenario, series)
    out = {}
    for target in scenario.observed.forecasts if forecasts else scenario.observed.targets:
        try:
            out[target.id] = float(_target_expression(scenario, target, scenario.source).evaluate(obs))
        except ExpressionError:
            out[target.id] = math.nan
    return out
