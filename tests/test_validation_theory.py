"""The rule variants against theory (reduced versions of `sim validate`; tolerances come from the theory)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.validation import theory

pytestmark = pytest.mark.validation


def test_theory_helpers_reproduce_the_published_numbers():
    # Granovetter (1978): with mean threshold 25 of 100, the riot jumps near a spread of 12.2.
    assert theory.critical_spread(0.25) == pytest.approx(0.122, abs=0.002)
    # Watts (2002), phi = 0.18 on Erdos-Renyi graphs: cascade window from z ~ 1 to z ~ 5.8.
    window = np.linspace(0.3, 16, 1000)[theory.cascade_window(0.18, np.linspace(0.3, 16, 1000))]
    assert window.min() == pytest.approx(1.0, abs=0.1) and window.max() == pytest.approx(5.8, abs=0.2)
    # Bass closed form: F(0) = 0, F -> 1, and the inflection where F = (q - p) / 2q.
    t = np.linspace(0, 200, 20001)
    f = theory.bass_curve(t, 0.01, 0.3)
    assert f[0] == 0 and f[-1] == pytest.approx(1, abs=1e-6)
    assert f[np.argmax(np.gradient(f))] == pytest.approx((0.3 - 0.01) / 0.6, abs=1e-3)


@pytest.mark.parametrize("check", [theory.bass, theory.granovetter, theory.watts],
                         ids=["bass", "granovetter", "watts"])
def test_rule_matches_theory(check, tmp_path):
    section = check(True, tmp_path)
    assert section.passed, section.markdown
    assert all(p.is_file() for p in section.figures)
