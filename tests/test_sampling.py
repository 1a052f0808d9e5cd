"""The typed parameters and the Latin-hypercube sampler that sweeps and searches share (sim.sampling)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from scipy.stats import qmc

import sim.sampling
from sim.sampling import LevelsParameter, RealParameter, latin_hypercube, unit_latin_hypercube


def test_a_real_parameter_maps_the_unit_interval_linearly_onto_its_range() -> None:
    p = RealParameter("mu", 0.2, 0.6)
    assert (p.value(0.0), p.value(0.5), p.value(1.0)) == (0.2, pytest.approx(0.4), 0.6)
    assert RealParameter("held", 3, 3).value(0.7) == 3.0


def test_a_levels_parameter_takes_each_level_in_an_equal_slice() -> None:
    p = LevelsParameter("kind", ("a", "b", "c"))
    assert [p.value(q) for q in (0.0, 0.33, 0.34, 0.66, 0.67, 0.999, 1.0)] == ["a", "a", "b", "b", "c", "c", "c"]


@pytest.mark.parametrize(("make", "message"), [
    (lambda: RealParameter("x", 1.0, 0.0), "expected finite lower <= upper"),
    (lambda: RealParameter("x", 0.0, float("inf")), "expected finite lower <= upper"),
    (lambda: LevelsParameter("x", ()), "at least one level"),
    (lambda: unit_latin_hypercube(0, 4, 1), "at least one dimension"),
])
def test_parameters_and_designs_that_mean_nothing_are_refused(make, message) -> None:
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("samples", [1, 7, 16])
def test_every_column_has_one_point_in_each_stratum(samples: int) -> None:
    design = unit_latin_hypercube(3, samples, np.random.SeedSequence(11))
    assert design.shape == (samples, 3)
    for column in design.T:
        assert sorted(np.floor(column * samples).astype(int)) == list(range(samples))


def test_points_of_real_ranges_and_levels_are_stratified() -> None:
    params = [RealParameter("mu", 0.0, 0.8), LevelsParameter("kind", ("ws", "er")), RealParameter("b", -1, 1)]
    points = latin_hypercube(params, 8, 5)
    assert sorted(int(p["mu"] / 0.1) for p in points) == list(range(8))
    assert sorted(int((p["b"] + 1) / 0.25) for p in points) == list(range(8))
    assert sorted(p["kind"] for p in points) == ["er"] * 4 + ["ws"] * 4
    assert all(isinstance(p["mu"], float) for p in points)


def test_the_same_seed_gives_the_same_points_another_seed_others() -> None:
    params = [RealParameter("mu", 0.0, 1.0), RealParameter("lam", 0.1, 0.3)]
    first = latin_hypercube(params, 6, np.random.SeedSequence(3))
    assert first == latin_hypercube(params, 6, np.random.SeedSequence(3))
    assert first != latin_hypercube(params, 6, np.random.SeedSequence(4))


def test_the_design_is_scipys_latin_hypercube_from_the_same_generator() -> None:
    """Seeded as the calibration always was, so its saved fits stay reproducible."""
    expected = qmc.LatinHypercube(d=4, seed=np.random.default_rng(np.random.SeedSequence(2014))).random(9)
    np.testing.assert_array_equal(unit_latin_hypercube(4, 9, np.random.SeedSequence(2014)), expected)


def test_the_examples_in_the_docstrings_run() -> None:
    assert doctest.testmod(sim.sampling).failed == 0
