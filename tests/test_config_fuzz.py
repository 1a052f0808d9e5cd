"""A fuzzer over the shipped configs: keys deleted, types swapped, values out of range, NaN and infinities,
garbage bytes, random --set. Loading (every scenario at every sweep point) either succeeds or raises
ConfigError: never another exception."""

from __future__ import annotations

import contextlib
import copy
import json
import math
from pathlib import Path
from typing import Any

from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import _parse_set
from sim.config import ConfigError, read_toml
from sim.experiment import expand, load_experiment

SHIPPED = sorted((ROOT / "experiments").glob("*.toml"))
#: Odd values for a key: wrong types, out of range, not finite, huge, empty.
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.sampled_from([math.inf, -math.inf, math.nan]),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12), st.sampled_from(["", "..", "/etc"]),
    st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                            HealthCheck.function_scoped_fixture])


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v if x is not None) + "]"
    return "{ " + ", ".join(f"{json.dumps(str(k))} = {toml_value(x)}" for k, x in v.items() if x is not None) + " }"


def to_toml(data: dict[str, Any], name: str = "") -> str:
    """Nested dicts as TOML tables, lists of dicts as arrays of tables, None as a missing key."""
    out, tables = [], []
    for key, value in data.items():
        if value is None:
            continue
        quoted = json.dumps(str(key))
        full = f"{name}.{quoted}" if name else quoted
        if isinstance(value, dict) and value and all(isinstance(v, dict) or v is None for v in value.values()):
            tables.append(to_toml(value, full))
        elif isinstance(value, dict) and value:
            tables.append(f"[{full}]\n" + to_toml(value, full))
        elif isinstance(value, list) and value and all(isinstance(v, dict) or v is None for v in value):
            tables += [f"[[{full}]]\n" + to_toml(v, full).split("\n[", 1)[0] for v in value if v is not None]
        else:
            out.append(f"{quoted} = {toml_value(value)}")
    return "\n".join(out) + "\n" + "\n".join(tables)


def paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value in nested dicts and lists."""
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += paths(v, (*prefix, i))
    return out


def mutate(data: dict[str, Any], draw: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(data)))
        parent = data
        for step in where[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = draw(ODD)
    return data


def loads_cleanly(path: Path, overrides: dict[str, Any] | None = None) -> None:
    with contextlib.suppress(ConfigError):
        expand(load_experiment(path, overrides))


def with_episode_data(folder) -> None:
    """The episodes' data folder beside configs copied to ``folder`` (their ``observed.folder``)."""
    if not (folder / "data").exists():
        (folder / "data").symlink_to(ROOT / "experiments" / "data")


@SETTINGS
@given(st.data())
def test_mutated_shipped_configs_load_or_give_a_config_error(tmp_path, data):
    source = data.draw(st.sampled_from(SHIPPED))
    path = tmp_path / source.name
    with_episode_data(tmp_path)
    if source.name == "korea_2014_full.toml":  # it extends the base: keep that link
        (tmp_path / "korea_2014.toml").write_text(to_toml(read_toml(ROOT / "experiments" / "korea_2014.toml")))
    path.write_text(to_toml(mutate(read_toml(source), data.draw)))
    loads_cleanly(path)


@SETTINGS
@given(st.data())
def test_garbage_bytes_and_random_set_load_or_give_a_config_error(tmp_path, data):
    source = data.draw(st.sampled_from(SHIPPED))
    raw = bytearray(source.read_bytes())
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(0, len(raw)))
        raw[at:at + data.draw(st.integers(0, 4))] = data.draw(st.binary(min_size=1, max_size=6))
    path = tmp_path / source.name
    path.write_bytes(bytes(raw))
    with_episode_data(tmp_path)
    for name in ("korea_2014.toml",):  # what the others extend
        if not (tmp_path / name).exists():
            (tmp_path / name).write_bytes((ROOT / "experiments" / name).read_bytes())
    keys = [".".join(map(str, p)) for p in paths(read_toml(ROOT / "experiments" / "korea_2014.toml"))
            if all(isinstance(s, str) for s in p)]
    items = data.draw(st.lists(st.one_of(
        st.builds(lambda k, v: f"{k}={v}", st.sampled_from(keys), st.text(max_size=8)),
        st.builds(lambda k, v: f"{k}={toml_value(v)}", st.sampled_from(keys), ODD.filter(lambda v: v is not None)),
        st.text(max_size=15)), max_size=3))
    try:
        overrides = _parse_set(items)
    except ConfigError:
        return
    loads_cleanly(path, overrides)
