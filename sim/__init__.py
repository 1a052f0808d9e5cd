"""cyber-exile: an agent-based model of surveillance-driven defection from a dominant messenger.

Public API::

    import sim
    scenario = sim.load_config("experiments/<episode>.toml", {"population.n": 5000})
    ts = sim.simulate(scenario, seed=1)                 # one row per day
    model = sim.MessengerModel(scenario, rng=1)         # the Mesa model itself

The engines (Mesa, numba, pandas behind them) are imported on first use (PEP 562 ``__getattr__``), so that
``sim --help``, the config checks and worker processes that never build a model start without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sim.config import ConfigError, Scenario, load_config

if TYPE_CHECKING:
    import pandas as pd

    from sim.engine import ArrayModel
    from sim.model import MessengerModel
    from sim.world import Seed

__all__ = ["ENGINES", "ArrayModel", "ConfigError", "MessengerModel", "Scenario", "load_config", "make_model",
           "simulate"]
__version__ = "0.1.0"

#: Names this module provides on first access, and the module each comes from.
_LAZY = {"MessengerModel": "sim.model", "ArrayModel": "sim.engine"}


def __getattr__(name: str) -> Any:
    """The engines and :data:`ENGINES`, imported when first asked for (then cached as module globals)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name == "ENGINES":
        value = {"mesa": __getattr__("MessengerModel"), "array": __getattr__("ArrayModel")}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def make_model(scenario: Scenario, seed: Seed, engine: str | None = None) -> MessengerModel | ArrayModel:
    """Build a model of ``scenario`` on ``engine`` (default: the scenario's ``experiment.engine``)."""
    engines = __getattr__("ENGINES")
    name = engine or scenario.experiment.engine
    if name not in engines:
        raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(engines)}")
    return engines[name](scenario, rng=seed)


def simulate(scenario: Scenario, seed: Seed, engine: str | None = None, steps: int | None = None) -> pd.DataFrame:
    """Run ``scenario`` for ``steps`` days (default ``experiment.steps``) and return the daily time series.

    Columns: ``day`` (0 = initial state), ``active_<p>`` and ``primary_<p>`` (shares of users),
    ``multihoming`` (share active on 2+ platforms), ``exit_<incumbent>`` (share who used the incumbent and no
    longer do), ``mean_alarm``, ``adopters_<p>`` (cumulative share ever active), ``adoptions_<p>`` (cumulative
    adoption events per user). Same scenario, seed and engine: the same numbers; both engines agree.
    """
    return make_model(scenario, seed, engine).run(steps)
