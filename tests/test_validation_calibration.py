"""The calibration's report sections on the shipped posterior: in-sample posterior predictive, forecasts,
identification, model selection, leave-one-out nowcasts and the coverage of credible intervals on synthetic
data. (With a deliberately broken model each of them fails: test_broken_models.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import ROOT

import sim
from sim.fit.posterior import Posterior
from sim.fit.problem import config_value
from sim.validation.calibration import Interval, calibration_section
from sim.validation.outofsample import SYNTHETIC_FITS, coverage_section, leave_one_out_section, wilson

pytestmark = pytest.mark.validation

SHIPPED = ROOT / "experiments" / "calibration"
EPISODES = ["korea_2014", "brazil_2015", "whatsapp_2021", "turkey_2021", "mastodon_2022"]


def test_the_shipped_posterior_reads_and_its_manifest_gives_the_command_and_the_five_episodes():
    posterior = Posterior.load(SHIPPED)
    m = posterior.manifest
    assert m["command"][:2] == ["sim", "calibrate"]
    assert sorted(c["episode"] for c in m["configs"]) == ["brazil_2015", "korea_2014", "mastodon_2022",
                                                           "turkey_2021", "whatsapp_2021"]
    assert posterior.particles["weight"].sum() == pytest.approx(1.0)
    assert set(posterior.particles["model"]) <= set(m["models"])
    shared = [r for r in posterior.parameters if r["episode"] is None]
    assert {"behaviour.mu", "behaviour.b_pull", "behaviour.delta"} <= {r["key"] for r in shared}


@pytest.mark.parametrize("episode", EPISODES)
def test_the_episode_configs_point_values_are_the_posterior_medians(episode):
    """Every parameter the configured model fits that acts on the episode takes the shipped posterior's weighted
    median (three significant digits; a factor: its ``point``, with the values it scales), and the config's
    comments state the medians (experiments/calibration/apply_medians.py writes them)."""
    posterior = Posterior.load(SHIPPED)
    path = ROOT / "experiments" / f"{episode}.toml"
    scenario = sim.load_config(path)
    values = posterior.point_values(episode)
    assert {r["key"] for r in posterior.parameters if "contacts" in r["models"] and r["episode"] in (None, episode)
            } == set(values) and len(values) >= 7
    priors = {q.key: q for q in scenario.calibration.priors}
    for key, median in values.items():
        if priors[key].scales:
            assert priors[key].point == float(f"{median:.3g}"), key
        else:
            assert config_value(scenario, key) == float(f"{median:.3g}"), key
        assert f"{median:.3g}" in path.read_text(), key


def test_the_calibration_section_runs_the_posterior_predictive_now(tmp_path):
    section = calibration_section(SHIPPED, quick=True, figures=tmp_path)
    assert section.title == "Calibration" and section.command.startswith("sim calibrate")
    for label in ("**Model selection**", "**Parameters against data points**", "**What the data identify**",
                  "**In sample: the posterior predictive", "**Out of sample: forecasts"):
        assert label in section.markdown
    assert section.passed == (section.numbers["misses"] == 0)
    assert all(0 <= v <= 1.0001 for k, v in section.numbers.items() if k.startswith("width_"))
    assert len(section.figures) == 5 and all(p.is_file() for p in section.figures)


def test_an_interval_meets_a_range_when_they_overlap():
    iv = Interval.of(np.arange(101, dtype=float) / 100)      # median 0.5, 50 %: 0.25-0.75, 90 %: 0.05-0.95
    assert (iv.median, iv.q25, iv.q75, iv.q05, iv.q95) == pytest.approx((0.5, 0.25, 0.75, 0.05, 0.95))
    assert iv.meets(0.9, 1.2) and not iv.meets(0.9, 1.2, wide=False) and not iv.meets(0.96, None)
    assert iv.meets(None, 0.06) and not iv.meets(None, 0.04)


@pytest.mark.slow
def test_the_leave_one_out_section_nowcasts_each_left_out_episode(tmp_path):
    section = leave_one_out_section(SHIPPED / "leave_one_out", quick=True)
    assert section is not None and section.numbers["targets"] >= 40
    assert "first week of data alone" in section.markdown
    for name in ("korea_2014", "brazil_2015", "whatsapp_2021", "turkey_2021", "mastodon_2022"):
        assert f"*{name}* (left out;" in section.markdown
    assert section.passed == (section.numbers["met90"] >= 0.8)


@pytest.mark.slow
def test_the_credible_intervals_cover_the_truth_about_as_often_as_they_claim():
    section = coverage_section(quick=True)
    assert f"{SYNTHETIC_FITS} synthetic episodes" in section.markdown
    assert section.passed, section.markdown


def test_the_wilson_interval_of_a_share():
    lo, hi = wilson(18, 20)
    assert lo == pytest.approx(0.699, abs=1e-3) and hi == pytest.approx(0.972, abs=1e-3)
    assert wilson(0, 5)[1] < 0.5 < wilson(3, 5)[1]


def test_the_manifest_records_each_populations_threshold_and_effective_sample_size():
    m = json.loads((SHIPPED / "manifest.json").read_text())
    eps = [g["epsilon"] for g in m["generations"]]
    assert eps == sorted(eps, reverse=True) and all(g["ess"] > 0 for g in m["generations"])


def test_a_quick_joint_calibration_of_the_five_episodes_writes_its_posterior_and_figures(tmp_path, capsys):
    """`sim calibrate <the five episodes> --quick`, as the README gives it, end to end (the full fit's reduced
    version: each episode, every model variant, the figures)."""
    from sim.cli import main

    configs = [str(ROOT / "experiments" / f"{name}.toml") for name in
               ("korea_2014", "brazil_2015", "whatsapp_2021", "turkey_2021", "mastodon_2022")]
    out = tmp_path / "fit"
    assert main(["calibrate", *configs, "--quick", "--draws", "4", "--out", str(out)]) == 0
    assert "model probabilities:" in capsys.readouterr().out
    posterior = Posterior.load(out)
    assert {c["episode"] for c in posterior.manifest["configs"]} == {
        "korea_2014", "brazil_2015", "whatsapp_2021", "turkey_2021", "mastodon_2022"}
    assert posterior.manifest["command"][-1] == str(out) and "--quick" in posterior.manifest["command"]
    assert {p.name for p in (out / "figures").iterdir()} >= {
        "posterior_marginals.png", "posterior_pairs.png", *(f"predictive_{n}.png" for n in (
            "korea_2014", "brazil_2015", "whatsapp_2021", "turkey_2021", "mastodon_2022"))}


def test_the_report_says_whether_the_fit_converged():
    from sim.validation.calibration import convergence

    falling = [{"epsilon": 134.8, "particles": 400, "ess": 57}, {"epsilon": 120.5, "particles": 400, "ess": 39}]
    assert "lowered the threshold by 11% (134.8 to 120.5)" in convergence(falling)
    assert "this fit has **not converged**" in convergence(falling) and "39 of 400" in convergence(falling)
    settled = [{"epsilon": 134.8, "particles": 400, "ess": 57}, {"epsilon": 132.0, "particles": 400, "ess": 200}]
    assert convergence(settled).endswith("this fit has converged.")
    assert "not converged" in convergence(falling[:1])


def test_per_episode_model_selection_reads_each_fit_alone(tmp_path):
    """A fit in <folder>/per_episode/<name>/ gives one row: its first episode, populations, threshold, the
    model probabilities and the preferred variant; no folder, no lines."""
    import shutil

    from sim.validation.calibration import per_episode

    assert per_episode(tmp_path, ["contacts"], {}) == []
    fit = tmp_path / "per_episode" / "any"
    fit.mkdir(parents=True)
    for name in ("posterior.parquet", "manifest.json"):
        shutil.copy(SHIPPED / name, fit / name)
    m = Posterior.load(fit).manifest
    models = list(m["model_probabilities"])
    numbers: dict[str, float] = {}
    lines = per_episode(tmp_path, models, numbers)
    row = next(line for line in lines if line.startswith(f"| {m['configs'][0]['episode']} |"))
    best = max(m["model_probabilities"], key=m["model_probabilities"].get)
    assert row.endswith(f"| {best} |") and f"{len(m['generations'])} × {m['settings']['population']}" in row
    assert numbers == {f"p_{m['configs'][0]['episode']}_{k}": pytest.approx(v)
                       for k, v in m["model_probabilities"].items()}


def test_report_links_are_relative_to_docs_for_figures_in_the_repository(tmp_path):
    from sim.validation import link

    assert link("docs/figures/a.png") == "figures/a.png"
    assert link("experiments/calibration/figures/b.png") == "../experiments/calibration/figures/b.png"
    assert link(tmp_path / "c.png") == str(tmp_path / "c.png")
