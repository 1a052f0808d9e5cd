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


def test_an_update_of_some_sections_keeps_the_others_even_those_written_while_it_ran(tmp_path, monkeypatch):
    """`sim validate --only X` replaces X's section and keeps every other, including one that a second update
    wrote into the report while the first was still running (the report is read when the checks are done)."""
    from sim.validation import Section, report

    out = tmp_path / "VALIDATION.md"
    old = Section("Bass (1969) diffusion", "old text", "sim validate --only bass", False, {})
    other = Section("Something else", "kept", "sim validate --only other", True, {})

    def bass(quick, figures):
        lines = [report.INTRO, "| check | result | seconds |", "|---|---|---|",
                 f"| {old.title} | MISSES (see below) | 1 |", f"| {other.title} | matches | 2 |", "",
                 f"## {old.title}", "", f"Command: `{old.command}`\n\n{old.markdown}", "",
                 f"## {other.title}", "", f"Command: `{other.command}`\n\n{other.markdown}", ""]
        out.write_text("\n".join(lines))  # what a second `sim validate --only other` wrote meanwhile
        return Section(old.title, "new text", old.command, True, {})

    monkeypatch.setattr(report, "THEORY", [("bass", bass)])
    sections = report.write_report(out, quick=True, only=["bass"], configs=[])
    text = out.read_text()
    assert [s.title for s in sections] == ["Bass (1969) diffusion"]
    assert "new text" in text and "old text" not in text and "kept" in text
    assert "| Bass (1969) diffusion | matches |" in text and "| Something else | matches | 2 |" in text
