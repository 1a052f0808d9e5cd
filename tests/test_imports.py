"""Importing the package is light: the engines and their heavy dependencies load on first use, so that the
command line and worker processes start fast; the public API still answers every name."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numba", "mesa", "pandas")


def loaded_after(statement: str, modules: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of ``modules`` a fresh interpreter holds after running ``statement``."""
    probe = f"import sys\n{statement}\nimport json\nprint(json.dumps([m for m in {modules!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.parametrize("statement", ["import sim", "import sim.cli", "import sim.dates, sim.intervals, sim.sampling"])
def test_the_package_its_command_line_and_small_helpers_load_no_engine(statement: str) -> None:
    assert loaded_after(statement) == []


def test_the_public_api_loads_the_engines_on_first_use() -> None:
    statement = ("import sim\n"
                 "assert sim.ENGINES == {'mesa': sim.MessengerModel, 'array': sim.ArrayModel}\n"
                 "assert {'ENGINES', 'ArrayModel', 'MessengerModel', 'make_model', 'simulate'} <= set(dir(sim))\n"
                 "assert callable(sim.load_config) and issubclass(sim.ConfigError, Exception)\n"
                 "assert sim.Scenario.__module__.startswith('sim.config')")
    assert set(loaded_after(statement)) == set(HEAVY)


def test_an_unknown_name_is_an_attribute_error() -> None:
    import sim

    with pytest.raises(AttributeError, match="no attribute 'Engine'"):
        sim.Engine  # noqa: B018
    with pytest.raises(ImportError):
        from sim import no_such_name  # noqa: F401


def test_the_sampler_imports_scipy_stats_only_when_it_draws() -> None:
    """sim.experiment, which every command and worker imports, needs scipy.stats (~0.4 s) only for an LHS."""
    assert loaded_after("import sim.experiment", ("scipy.stats",)) == []
    assert loaded_after("import sim.sampling\nsim.sampling.unit_latin_hypercube(2, 3, 1)", ("scipy.stats",)) == [
        "scipy.stats"]
