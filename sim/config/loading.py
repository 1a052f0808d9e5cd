"""Reading configs: TOML files (with ``extends``) into raw data, and dotted-key overrides on raw data."""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.config.schema import ConfigError, Scenario
from sim.config.validation import build_scenario, did_you_mean, event_id

__all__ = ["apply_overrides", "flatten", "load_config", "not_applying", "read_toml", "read_toml_file"]


def read_toml_file(path: str | Path, name: str | None = None) -> dict[str, Any]:
    """One TOML file as written (``extends`` left unresolved); ConfigError for anything that is not a TOML
    text file. ``name``: how to call the file in errors (default: its path)."""
    path = Path(path)
    name = name or str(path)
    if path.is_dir():
        raise ConfigError(f"config {name} is a directory, expected a TOML file")
    if not path.is_file():
        raise ConfigError(f"config file not found: {name}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config {name}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config {name} is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}); "
                          "a config is a TOML text file") from None
    if "\x00" in text:
        raise ConfigError(f"config {name} is not a text file (it holds NUL bytes); a config is a TOML text file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {name}: not valid TOML: {exc}") from None


#: Keys naming a file or folder relative to the config that sets them.
PATH_KEYS = (("network", "file"), ("observed", "folder"))


def _rebase(data: dict[str, Any], source: Path, target: Path) -> dict[str, Any]:
    """``data`` read from a file in folder ``source``, with its relative :data:`PATH_KEYS` made relative to
    folder ``target`` instead (a config that extends another finds the other's data files)."""
    for section, key in PATH_KEYS:
        table = data.get(section)
        value = table.get(key) if isinstance(table, dict) else None
        if isinstance(value, str) and value and not Path(value).is_absolute():
            table[key] = os.path.relpath(source / value, target)
    return data


def read_toml(path: str | Path, _seen: tuple[Path, ...] = (), _via: str = "") -> dict[str, Any]:
    """Read a TOML file, resolving ``extends`` (relative to the file) into one merged dict. Files and folders
    named by a config it extends (:data:`PATH_KEYS`) stay relative to this file."""
    path = Path(path)
    resolved = path.resolve()
    if resolved in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, resolved))
        raise ConfigError(f"circular 'extends' in {path}: {chain}")
    data = read_toml_file(path, f"{_via}{path}")
    base = data.pop("extends", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ConfigError(f"key 'extends' in {path}: expected a file name (string), got {base!r}")
    parent_path = path.parent / base
    parent = read_toml(parent_path, (*_seen, resolved), _via=f"{path}: extends ")
    parent = _rebase(parent, parent_path.parent, path.parent)
    return _merge(_drop(parent, not_applying(parent, flatten(data))), data)


#: Network keys that mean nothing for some kinds: the kinds they do not apply to.
_NOT_FOR_KINDS = {"mean_degree": ("complete", "file"), "file": ("complete", "powerlaw_cluster", "watts_strogatz",
                                                                 "barabasi_albert", "sbm", "erdos_renyi", "chung_lu")}


def not_applying(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of ``data`` (dotted, with their values) that do not apply to the network kind that
    ``overrides`` set, which the overrides do not set themselves: ``network.mean_degree`` for a complete graph
    or a graph file, ``network.file`` for a generator. An override (``--set``, a scenario, a sweep point, a
    config that extends another) that changes the kind leaves them out (docs/CONFIG.md, Overrides)."""
    flat = flatten(overrides)
    kind = flat.get("network.kind")
    network = data.get("network")
    if not isinstance(kind, str) or not isinstance(network, Mapping):
        return {}
    return {f"network.{key}": network[key] for key, kinds in _NOT_FOR_KINDS.items()
            if kind in kinds and key in network and f"network.{key}" not in flat}


def _drop(data: dict[str, Any], dotted: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without the dotted keys ``dotted`` (a copy if any is dropped)."""
    if not dotted:
        return data
    out = copy.deepcopy(data)
    for key in dotted:
        section, name = key.split(".", 1)
        out[section].pop(name, None)
    return out


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``top`` into a copy of ``base``: tables merge, everything else (arrays too) is replaced."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """Apply dotted-key overrides to raw config data (returns a new dict).

    ``section.key = value`` sets a key (a table value merges); ``events.<id>.<key>`` changes one event;
    ``events.<new id> = {day = ..., kind = ...}`` adds one. ``where`` names the source in error messages.
    """
    out = _drop(copy.deepcopy(data), not_applying(data, overrides or {}))
    for dotted, value in (overrides or {}).items():
        parts = str(dotted).split(".")
        if parts[0] == "events" and len(parts) >= 2:
            _override_event(out, parts[1:], value, dotted, where)
            continue
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override '{dotted}' in {where}: '{'.'.join(parts[:i + 1])}' is not a table")
            node = child
        last = parts[-1]
        if isinstance(value, Mapping) and isinstance(node.get(last), dict):
            node[last] = _merge(node[last], value)
        else:
            node[last] = copy.deepcopy(value)
    return out


def _override_event(data: dict[str, Any], parts: list[str], value: Any, dotted: str, where: str) -> None:
    events = data.setdefault("events", [])
    ids = [event_id(e, i, events) for i, e in enumerate(events)]
    eid = parts[0]
    if eid not in ids:
        if len(parts) == 1 and isinstance(value, Mapping):
            events.append({"id": eid, **value})
            return
        hint = did_you_mean(eid, ids)
        raise ConfigError(f"override '{dotted}' in {where}: no event with id '{eid}'{hint} "
                          f"(events: {', '.join(ids) or 'none'}); to add one give a table with day and kind")
    target = events[ids.index(eid)]
    if len(parts) == 1:
        if not isinstance(value, Mapping):
            raise ConfigError(f"override '{dotted}' in {where}: expected a table of event keys")
        target.update(copy.deepcopy(dict(value)))
    elif len(parts) == 2:
        target[parts[1]] = copy.deepcopy(value)
    else:
        raise ConfigError(f"override '{dotted}' in {where}: expected events.<id> or events.<id>.<key>")



def flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested override tables to dotted keys, down to the leaves; ``events.<id>`` tables stay whole (a new
    event is given as one table)."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        is_event = dotted.startswith("events.") and dotted.count(".") == 1
        if isinstance(value, Mapping) and not is_event:
            out |= flatten(value, f"{dotted}.")
        else:
            out[dotted] = value
    return out


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a scenario from a TOML file, resolving ``extends`` and applying dotted-key ``overrides``.

    >>> s = load_config("experiments/<episode>.toml", {"population.n": 2000})  # doctest: +SKIP
    """
    path = Path(path)
    data = read_toml(path)
    where = str(path)
    if overrides:
        data = apply_overrides(data, overrides, f"overrides to {path}")
    return build_scenario(data, where, base_dir=path.parent)
