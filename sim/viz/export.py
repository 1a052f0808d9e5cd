"""The page's exports: the run's daily time series as CSV, and "Save run": a results folder as ``sim run``
writes it, which ``sim plot``, ``sim results`` and ``sim validate`` read.

Save run describes the page's run as an experiment (the config, the named scenario's overrides, the page's
controls, the live events fired as ``events.live_<k>`` and the days run, one replication on the Mesa engine,
the page's seed as the root seed: the page seeds its model as replication 0 of ``sim run --seed SEED``), runs
it with :func:`sim.experiment.run_one` and writes it with :class:`sim.store.ResultsStore`, the code ``sim run``
uses. The run is checked against the page's before anything is written: the folder's ``config.toml`` gives the
same time series again.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import ConfigError
from sim.viz.session import BEHAVIOUR_SLIDERS, VizModel

__all__ = ["OUTPUT_ENV", "ExportError", "csv_name", "run_overrides", "save_run", "timeseries_csv"]

#: Where Save run writes, if set (default: the config's ``experiment.output``, relative to the server's working
#: directory, as for ``sim run``).
OUTPUT_ENV = "SIM_VIZ_OUTPUT"


class ExportError(ConfigError):
    """The run cannot be saved (the message says why)."""


def timeseries_csv(model: VizModel) -> str:
    """The run's daily time series so far (day 0 = the initial state) as CSV text, with a ``date`` column after
    ``day`` when the scenario has dates; the other columns are those of ``sim run``'s time series."""
    frame = model.timeseries()
    start = model.config.experiment.start_date
    if start:
        dates = pd.to_datetime(start) + pd.to_timedelta(frame["day"], unit="D")
        frame.insert(1, "date", dates.dt.strftime("%Y-%m-%d"))
    return frame.to_csv(index=False)


def csv_name(model: VizModel) -> str:
    """``<experiment>[_<scenario>]_seed<seed>_day<day>.csv``."""
    scenario = f"_{model.choice.scenario}" if model.choice.scenario else ""
    return f"{model.config.experiment.name}{scenario}_seed{model.run_seed}_day{model.day}.csv"


def run_overrides(model: VizModel, output: str | Path | None = None) -> dict[str, Any]:
    """The page's run as overrides of its config file (dotted keys, as ``sim run --set`` takes them): the named
    scenario's, the controls that differ from the scenario (N always), one replication of the days run on the
    Mesa engine with the page's seed, the live events fired, and ``output`` (default ``$SIM_VIZ_OUTPUT``, else
    the config's)."""
    base = model.choice.load()
    out: dict[str, Any] = {**model.choice.overrides(), "population.n": model.n}
    if model.config.network.kind != base.network.kind:
        out["network.kind"] = model.config.network.kind
    for key in BEHAVIOUR_SLIDERS:
        value = getattr(model.config.behaviour, key)
        if value != getattr(base.behaviour, key):
            out[f"behaviour.{key}"] = value
    out |= {"experiment.seed": model.run_seed, "experiment.replications": 1, "experiment.steps": model.day,
            "experiment.engine": "mesa"}
    output = output or os.environ.get(OUTPUT_ENV)
    if output:
        out["experiment.output"] = str(output)
    for spec in model.live_fired:
        params = {key: getattr(spec, key) for key in spec.applicable() if key != "id"}
        out[f"events.{spec.id}"] = params
    return out


def save_run(model: VizModel, output: str | Path | None = None) -> Path:
    """Write the page's run so far as a results folder (``<output>/<experiment>/<UTC time>-<hash>/``, a new one
    each time) and return its path. Raises :class:`ExportError` before writing anything if there is nothing to
    save or the saved config would not give the page's run again."""
    from sim.experiment import expand, load_experiment, run_one  # the store and the runner: only on saving
    from sim.store import ResultsStore

    if model.day < 1:
        raise ExportError("nothing to save yet: step the run at least one day")
    overrides = run_overrides(model, output)
    path = model.choice.path
    try:
        exp = load_experiment(path, overrides)
    except ConfigError as exc:
        raise ExportError(f"cannot save this run as a config of {path}: {exc}") from None
    exp = dataclasses.replace(exp, scenarios={"baseline": {}}, sweep=None, notices=())
    specs = expand(exp)
    result = run_one(specs[0])
    if result.status != "done" or result.timeseries is None:
        raise ExportError(f"the saved config did not run: {result.error.strip().splitlines()[-1]}")
    try:
        pd.testing.assert_frame_equal(result.timeseries, model.timeseries())
    except AssertionError:
        raise ExportError("the saved config does not give the page's run again; nothing was written") from None
    as_given = {"file": str(path), "text": path.read_text(encoding="utf-8"), "overrides": overrides,
                "notices": ["written by the browser page's Save run (sim viz)"], "late_events": {},
                "inputs": exp.inputs, "posterior": None}
    store, _ = ResultsStore.open(exp, specs, None, new=True, as_given=as_given)
    with store:
        store.write(result)
        store.finish(len(specs))
    return store.root
