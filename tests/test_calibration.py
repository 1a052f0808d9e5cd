"""Calibration and sensitivity analysis: quick modes run and are reproducible; the loss prefers sensible
parameters to wrong ones; the sensitivity wrappers give SALib's known answers on functions with closed-form
indices (Ishigami; a linear model)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import ROOT
from SALib.test_functions import Ishigami

import sim
from sim.calibrate import Runner, calibrate, fit_section, loss
from sim.cli import main
from sim.sensitivity import morris_screen, sensitivity, sensitivity_section, sobol_indices
from sim.validation.korea import load_panels
from sim.validation.report import write_report

KOREA = ROOT / "experiments" / "korea_2014.toml"

#: The values experiments/korea_2014.toml had before the fit (set by hand for the qualitative patterns).
HAND_SET = {"behaviour.b_pull": 0.2, "behaviour.mu": 0.5, "behaviour.delta": 0.06, "behaviour.band": 0.15,
            "behaviour.lam": 0.15, "population.inertia.mean": 0.41, "events.park_cabinet.intensity": 0.3,
            "events.prosecutors_team.intensity": 0.5, "events.police_read_chats.intensity": 0.8}


def _quick_fit(folder):
    return calibrate(KOREA, samples=6, seeds=1, refine=5, local=3, n=800, out_dir=folder / "calibration",
                     rng_seed=3)


@pytest.fixture(scope="module")
def quick_fit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fit")
    return folder, _quick_fit(folder)


def test_quick_calibration_runs_writes_its_outputs_and_is_reproducible(quick_fit, tmp_path):
    folder, a = quick_fit
    b = _quick_fit(tmp_path)
    assert a.best == b.best and a.best_loss == b.best_loss
    assert [r["loss"] for r in a.samples] == [r["loss"] for r in b.samples]
    assert [r["stage"] for r in a.samples].count("global") == 6
    saved = json.loads((folder / "calibration" / "fit.json").read_text())
    assert saved["best"] == pytest.approx(a.best)
    assert set(saved["method"]) >= {"loss", "search", "acceptance", "rng_seed", "run_seeds", "command"}
    for p in saved["parameters"]:
        assert p["low"] <= a.best[p["name"]] <= p["high"]
    assert all((folder / "figures" / f).is_file() for f in ("calibration_fit.png", "calibration_parameters.png"))


def test_fit_section_reads_the_saved_fit_without_running(quick_fit):
    folder, _ = quick_fit
    s = fit_section(folder / "calibration" / "fit.json")
    assert s.title == "Calibration"
    assert s.command.startswith("sim calibrate")
    assert s.command in s.markdown
    assert "behaviour.b_pull" in s.markdown


def test_a_different_rng_seed_gives_a_different_search(quick_fit, tmp_path):
    _, a = quick_fit
    b = calibrate(KOREA, samples=6, seeds=1, refine=0, local=0, n=800, out_dir=tmp_path / "c", rng_seed=4)
    assert [r["values"] for r in a.samples[:6]] != [r["values"] for r in b.samples[:6]]


def test_loss_prefers_the_hand_set_parameters_to_obviously_wrong_ones():
    runner = Runner(KOREA, [np.random.SeedSequence(11)], n=3000, steps=77)
    panels = load_panels()
    hand, _ = loss(runner.run(HAND_SET), panels)
    no_reaction, _ = loss(runner.run({**HAND_SET, "events.prosecutors_team.intensity": 0.0,
                                      "events.police_read_chats.intensity": 0.0}), panels)
    runaway, _ = loss(runner.run({**HAND_SET, "population.inertia.mean": 0.3, "behaviour.delta": 0.02}), panels)
    assert hand < no_reaction
    assert hand < runaway


def test_runner_reuses_the_graph_without_changing_the_run():
    seed = np.random.SeedSequence(5)
    runner = Runner(KOREA, [seed], n=400, steps=25)
    values = {"behaviour.mu": 0.3}
    expected = sim.simulate(runner.scenario(values), seed, engine="array")
    assert runner.run(values)[0].equals(expected)
    with pytest.raises(ValueError, match="graph"):
        runner.run({"network.mean_degree": 8})


def test_quick_sensitivity_runs_is_reproducible_and_reads_back(tmp_path):
    kw = {"morris_trajectories": 2, "sobol_n": 4, "n": 500, "steps": 50, "rng_seed": 9}
    a = sensitivity(KOREA, out_dir=tmp_path / "a" / "calibration", **kw)
    b = sensitivity(KOREA, out_dir=tmp_path / "b" / "calibration", **kw)
    assert a.morris == b.morris and a.sobol == b.sobol and a.selected == b.selected
    assert a.runs["morris"] == 2 * (len(a.factors) + 1)
    assert a.runs["sobol"] == 4 * (len(a.selected) + 2)
    s = sensitivity_section(tmp_path / "a" / "calibration" / "sensitivity.json")
    assert s.title == "Sensitivity" and s.command in s.markdown
    assert "μ*" in s.markdown


def test_sobol_wrapper_recovers_the_ishigami_indices():
    """Ishigami (a = 7, b = 0.1): S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437) in closed form."""
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    _, (res,) = sobol_indices(problem, lambda x: Ishigami.evaluate(x[None, :]), 2048, seed=1)
    assert res["S1"] == pytest.approx([0.3139, 0.4424, 0.0], abs=0.04)
    assert res["ST"] == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.04)


def test_sobol_and_morris_wrappers_on_a_linear_model():
    """Y = sum a_i X_i, X_i ~ U(0, 1) independent: S1_i = ST_i = a_i² / sum a²; Morris mu*_i = |a_i| and
    sigma_i = 0 exactly (every elementary effect is a_i)."""
    a = np.array([3.0, -2.0, 1.0, 0.0])
    problem = {"num_vars": 4, "names": list("abcd"), "bounds": [[0.0, 1.0]] * 4}
    _, (res,) = sobol_indices(problem, lambda x: (x @ a,), 1024, seed=2)
    share = a**2 / np.sum(a**2)
    assert res["S1"] == pytest.approx(share, abs=0.03)
    assert res["ST"] == pytest.approx(share, abs=0.03)
    _, (m,) = morris_screen(problem, lambda x: (x @ a,), 10, seed=2)
    assert m["mu_star"] == pytest.approx(np.abs(a))
    assert m["sigma"] == pytest.approx(np.zeros(4), abs=1e-9)


def test_sobol_rejects_a_base_sample_that_is_not_a_power_of_two():
    problem = {"num_vars": 1, "names": ["x"], "bounds": [[0.0, 1.0]]}
    with pytest.raises(ValueError, match="power of 2"):
        sobol_indices(problem, lambda x: (x[0],), 100, seed=0)


def test_cli_calibrate_writes_the_fit_and_prints_the_report_section(tmp_path, capsys):
    out = tmp_path / "calibration"
    code = main(["calibrate", str(KOREA), "--samples", "4", "--seeds", "1", "--refine", "0", "--local", "0",
                 "--confirm", "0", "--n", "500", "--rng-seed", "5", "--out", str(out)])
    assert code == 0
    fit = json.loads((out / "fit.json").read_text())
    assert len(fit["samples"]) >= 4 and set(fit["best"]) == {p["name"] for p in fit["parameters"]}
    printed = capsys.readouterr().out
    assert "--samples 4" in printed and str(out / "fit.json") in printed


def test_cli_sensitivity_checks_its_arguments_before_running(tmp_path, capsys):
    assert main(["sensitivity", str(KOREA), "--sobol-n", "100", "--out", str(tmp_path)]) == 2
    assert "power of 2" in capsys.readouterr().err
    assert not (tmp_path / "sensitivity.json").exists()


def test_validate_reports_the_saved_calibration_and_sensitivity_without_running(tmp_path):
    """The committed docs/calibration results are read back into the report; no model is run for them."""
    sections = write_report(tmp_path / "VALIDATION.md", only=["calibration", "sensitivity"])
    text = (tmp_path / "VALIDATION.md").read_text()
    assert [s.title for s in sections] == ["Calibration", "Sensitivity"]
    assert "## Calibration" in text and "## Sensitivity" in text and "sim calibrate" in text


def test_validate_only_updates_its_sections_and_keeps_the_others(tmp_path, capsys):
    report = tmp_path / "VALIDATION.md"
    assert main(["validate", "--only", "calibration", "--out", str(report)]) == 0
    first = report.read_text()
    assert main(["validate", "--only", "sensitivity", "--out", str(report)]) == 0
    text = report.read_text()
    assert f"report: {report}" in capsys.readouterr().out
    calibration = first[first.index("## Calibration"):]
    assert calibration.strip() in text                      # kept as it was
    assert "## Sensitivity" in text and "| Calibration | matches | saved |" in text
    assert text.count("## ") == 2 and "sections Sensitivity updated" in text
