"""Scenario configuration: TOML files into frozen, validated dataclasses.

A scenario file has the sections ``[experiment]``, ``[population]``, ``[network]``, ``[platforms.<name>]``,
``[behaviour]`` and ``[[events]]`` (see docs/CONFIG.md, generated from the field metadata by
:func:`config_reference`). ``extends = "base.toml"`` reuses another file; overrides are applied by dotted key
(``{"behaviour.b_priv": 2.0}``, ``{"events.apology.day": 17}``). Every error names the file, the key and what
was expected, and suggests the closest valid key. Input is parsed with :mod:`tomllib` only: no eval, no pickle.

One module per job: :mod:`~sim.config.schema` (the dataclasses), :mod:`~sim.config.loading` (files and
overrides), :mod:`~sim.config.validation` (raw data to a checked Scenario), :mod:`~sim.config.reference`
(docs/CONFIG.md).
"""

from sim.config.loading import apply_overrides, flatten, load_config, read_toml, read_toml_file
from sim.config.reference import config_reference
from sim.config.schema import (
    EVENT_KINDS,
    MAX_PLATFORMS,
    NETWORK_KINDS,
    Behaviour,
    ConfigError,
    Distribution,
    EventSpec,
    ExperimentSettings,
    Network,
    PlatformSpec,
    Population,
    Scenario,
    Segment,
)
from sim.config.validation import build_scenario, event_id

__all__ = [
    "EVENT_KINDS",
    "MAX_PLATFORMS",
    "NETWORK_KINDS",
    "Behaviour",
    "ConfigError",
    "Distribution",
    "EventSpec",
    "ExperimentSettings",
    "Network",
    "PlatformSpec",
    "Population",
    "Scenario",
    "Segment",
    "apply_overrides",
    "build_scenario",
    "config_reference",
    "event_id",
    "flatten",
    "load_config",
    "read_toml",
    "read_toml_file",
]
