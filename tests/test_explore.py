"""Policy exploration (sim explore): the [explore] table's kinds and its errors, outcomes and predicates against
hand-computed series, the design (common random numbers, "never", the reference), PRIM on a planted box,
robustness by hand, a killed exploration resuming to identical results, and figures from saved files only."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.cli import main
from sim.config import ConfigError
from sim.experiment import expand
from sim.explore import files
from sim.explore.analysis import feature_scores, prim, robustness
from sim.explore.config import ExploreSpec, PrimSettings
from sim.explore.design import Design, load_exploration
from sim.explore.outcomes import Outcome, Predicate, builtin_expression, evaluate, parse_clause, predicate_values
from sim.explore.reference import explore_reference
from sim.explore.report import summary
from sim.expressions import Observables
from sim.fit.posterior import Posterior
from sim.plots.explore import plot_feature_scores, plot_prim, plot_robustness, plot_scatter
from sim.store import ResultsError, load_results

BASE = """
[experiment]
name = "tiny_explore"
seed = 5
steps = 30
engine = "array"

[population]
n = 400

[network]
kind = "watts_strogatz"
mean_degree = 6

[platforms.incumbent]
incumbent = true
domestic = true
exposure = 0.8
initial_share = 1.0

[platforms.rival]
exposure = 0.05
appeal = 0.05
initial_share = 0.01

[platforms.other]
exposure = 0.4
appeal = 0.1
initial_share = 0.03

[[events]]
id = "crackdown"
day = 3
kind = "announcement"
reach = 0.9
intensity = 0.7

[[events]]
id = "apology"
day = 12
kind = "apology_refusal"
reach = 0.7
credibility = 0.4

[[events]]
id = "cut"
day = 14
kind = "retention_cut"
reach = 0.4
credibility = 0.1
"""

#: The tables of a good [explore], each table's body by its name.
TABLES = {
    "explore": "scenarios = 6\npolicies = 3\n",
    "explore.uncertainties": '"behaviour.mu" = { low = 0.1, high = 0.9 }\n'
                             'news = { low = 0.5, high = 1.0, scales = ["events.crackdown.intensity"] }\n',
    "explore.levers": '"events.apology.day" = [5, 20, "never"]\n'
                      '"events.apology.credibility" = { low = 0.1, high = 0.7 }\n',
    "explore.outcomes": 'peak = { kind = "peak", goal = "min" }\nloss = { kind = "loss", goal = "min" }\n'
                        'late = "at(active.rival, 30)"\n',
    "explore.predicates": 'small = ["peak < 3%", "loss < 0.5%"]\n',
}


def explore_text(**bodies: str) -> str:
    """An [explore] table: the good one with some tables' bodies replaced (by their names, dots as __)."""
    tables = TABLES | {name.replace("__", "."): body for name, body in bodies.items()}
    return "".join(f"\n[{name}]\n{body}" for name, body in tables.items())


EXPLORE = explore_text()


def write(tmp_path: Path, explore: str = EXPLORE, base: str = BASE, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(base + explore, encoding="utf-8")
    return path


# The [explore] table ---------------------------------------------------------------------------------------
def test_every_kind_of_uncertainty_lever_outcome_and_predicate_is_read(tmp_path: Path) -> None:
    text = explore_text(
        explore="scenarios = 4\npolicies = 5\n",
        explore__uncertainties='"behaviour.mu" = { low = 0.1, high = 0.9 }\n'
                               '"events.crackdown.day" = { low = 2, high = 6 }\n"network.mean_degree" = [4, 6]\n'
                               'news = { low = 0.5, high = 1.0, scales = '
                               '["events.crackdown.intensity", "events.apology.reach"] }\n',
        explore__levers='"events.apology.day" = [5, 20, "never"]\n'
                        '"events.apology.credibility" = { low = 0.1, high = 0.7 }\n'
                        '"events.cut.enabled" = [true, false]\n',
        explore__outcomes='peak = { kind = "peak", platform = "other", goal = "min" }\nday = { kind = "peak_day" }\n'
                          'loss = { kind = "loss", goal = "min" }\nafter = { kind = "after", days = 7 }\n'
                          'multi = { kind = "multihoming" }\ngone = { kind = "exit", goal = "max" }\n'
                          'mid = "mean(active.rival, 10, 20)"\n'
                          'mid_goal = { value = "at(active.rival, 30)", goal = "min" }\n',
        explore__predicates='calm = ["peak < 5%", "loss <= 0.5 %"]\nbad = "loss > 1e-2"\n',
        explore__prim="min_coverage = 0.7\n")
    exp, design = load_exploration(write(tmp_path, text))
    spec = design.spec
    u = {d.name: d for d in spec.uncertainties}
    assert (u["behaviour.mu"].low, u["behaviour.mu"].high, u["behaviour.mu"].integer) == (0.1, 0.9, False)
    assert u["events.crackdown.day"].integer and u["events.crackdown.day"].parameter().levels == (2, 3, 4, 5, 6)
    assert u["network.mean_degree"].levels == (4, 6)
    assert u["news"].scales == ("events.crackdown.intensity", "events.apology.reach")
    levers = {d.name: d for d in spec.levers}
    assert levers["events.apology.day"].levels == (5, 20, "never")
    assert levers["events.cut.enabled"].levels == (True, False)
    o = {x.name: x for x in spec.outcomes}
    assert o["peak"].text == "max(active.other, 0, 30)" and o["peak"].goal == "min"
    assert o["day"].text == "argmax(active.rival, 0, 30)"  # the first rival by default
    assert o["loss"].text == "(at(active.incumbent, 0) - min(active.incumbent, 0, 30)) / at(active.incumbent, 0)"
    assert o["after"].text == "at(active.rival, argmax(active.rival, 0, 30) + 7)"
    assert (o["multi"].text, o["gone"].text, o["gone"].goal) == ("at(multihoming, 30)", "at(exit, 30)", "max")
    assert (o["mid"].kind, o["mid"].goal, o["mid_goal"].goal) == ("expression", "", "min")
    p = {x.name: x for x in spec.predicates}
    assert [(c.outcome, c.op, c.value) for c in p["calm"].clauses] == [("peak", "<", 0.05), ("loss", "<=", 0.005)]
    assert [(c.outcome, c.op, c.value) for c in p["bad"].clauses] == [("loss", ">", 0.01)]
    assert spec.prim == PrimSettings(min_coverage=0.7) and (spec.scenarios, spec.policies) == (4, 5)
    assert len(expand(exp)) == 20


UNC, LEV, OUT, PRED = "explore__uncertainties", "explore__levers", "explore__outcomes", "explore__predicates"
BAD: list[tuple[dict[str, str], str]] = [
    ({"explore": "scenaros = 3\n"}, r"unknown key 'explore.scenaros' in .*tiny.toml; did you mean 'scenarios'"),
    ({"explore": "scenarios = 0\n"}, r"key 'explore.scenarios' in .*: expected a value >= 1, got 0"),
    ({"explore": "reference = 1\n"}, r"key 'explore.reference' in .*: expected true or false, got 1"),
    ({UNC: '"behaviour.mu" = { low = 0.9, high = 0.1 }\n'}, r"low \(0.9\) exceeds high \(0.1\)"),
    ({UNC: '"behaviour.mu" = { low = 0.1 }\n'}, r"expected a list of values or \{low, high\} or"),
    ({UNC: '"behaviour.mu" = []\n'}, r"expected a non-empty list of values, got \[\]"),
    ({UNC: '"behaviour.b_psh" = { low = 0.1, high = 0.9 }\n'},
     r"unknown key 'behaviour.b_psh' in .*\[explore.uncertainties\] behaviour.b_psh = 0.1; did you mean 'b_push'"),
    ({UNC: '"behaviour.mu" = { low = 0.1, high = 1.5 }\n'},
     r"key 'behaviour.mu' in .*\[explore.uncertainties\] behaviour.mu = 1.5: expected a value in \[0.0, 1.0\]"),
    ({UNC: '"experiment.steps" = [10, 20]\n'}, r"holds for the whole exploration"),
    ({UNC: '"events.crackdown.day" = [2, "never"]\n'}, r"\"never\" is a level of a lever on an event's day"),
    ({UNC: '"events.crackdown.day" = { low = 2, high = 6.5 }\n'}, r"expected whole low and high"),
    ({UNC: 'News = { low = 0.5, high = 1.0, scales = ["events.crackdown.intensity"] }\n'},
     r"a factor \(with scales\) is named by an identifier"),
    ({UNC: 'news = { low = 0.5, high = 1.0, scales = ["events.nothing.intensity"] }\n'},
     r"key explore.uncertainties.\"news\".scales in .*: the config has no value of 'events.nothing.intensity'"),
    ({UNC: ""}, r"nothing is uncertain; declare \[explore.uncertainties\] or a posterior"),
    ({LEV: '"events.apology.day" = [5, 40]\n'},
     r"day 40 is after the run's last day \(30\); expected a day <= 30, or \"never\""),
    ({LEV: '"events.nope.day" = [5, "never"]\n'}, r"events.nope.day = 5: no event with id 'nope'"),
    ({LEV: '"events.nope.day" = ["never"]\n'}, r"no enabled event 'nope' in the config"),
    ({LEV: '"events.apology.credibility" = [0.2, "never"]\n'}, r"lever on an event's day"),
    ({LEV: '"behaviour.mu" = [0.2, 0.4]\n'}, r"'behaviour.mu' is also an uncertainty"),
    ({LEV: '"events.apology.day" = [5, "never"]\n"events.apology.enabled" = [true, false]\n'},
     r"the event's day lever has \"never\" already"),
    ({"explore": "policies = 2\n", LEV: ""}, r"no levers are declared, so there is one policy"),
    ({OUT: 'peak = "active.rival"\n'}, r"expected an expression giving one number .* got a series"),
    ({OUT: 'peak = "max(active.nobody, 0, 30)"\n'}, r"key 'explore.outcomes.peak' in .*unknown platform 'nobody'"),
    ({OUT: 'peak = { kind = "peek" }\n'}, r"expected one of peak, .* got 'peek'; did you mean 'peak'"),
    ({OUT: 'peak = { kind = "peak", platform = "incumbent" }\n'}, r"expected a rival \(rival, other\)"),
    ({OUT: 'after = { kind = "after" }\n', PRED: ""}, r"key 'explore.outcomes.after.days' in .*: expected a whole"),
    ({OUT: 'peak = { kind = "peak", goal = "low" }\n'}, r"expected 'min' or 'max', got 'low'"),
    ({OUT: 'peak = { kind = "peak", days = 3 }\n'}, r"unknown key 'explore.outcomes.peak.days'"),
    ({OUT: "", PRED: ""}, r"declare at least one outcome"),
    ({PRED: 'big = "los > 1%"\n'}, r"no outcome 'los' is declared; did you mean 'loss'"),
    ({PRED: 'big = "loss is large"\n'}, r"expected '<outcome> <op> <number>'"),
    ({PRED: "big = []\n"}, r"expected a clause such as 'loss > 1%' or a non-empty list"),
    ({PRED: 'peak = "loss > 1%"\n'}, r"'peak' already names an outcome or a factor"),
    ({"explore__prim": "min_coverage = 1.5\n"},
     r"key 'explore.prim.min_coverage' in .*: expected a value in \[0.0, 1.0\]"),
    ({"explore": 'posterior = "nowhere/posterior.parquet"\n'},
     r"key 'explore.posterior' in .*: .*nowhere/posterior.parquet is missing"),
]


@pytest.mark.parametrize(("bodies", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_a_bad_explore_table_is_one_line_naming_the_file_and_key(tmp_path: Path, bodies: dict[str, str],
                                                                 message: str) -> None:
    path = write(tmp_path, explore_text(**bodies))
    with pytest.raises(ConfigError, match=message) as caught:
        load_exploration(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_a_bad_config_stops_sim_explore_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, EXPLORE.replace('"loss < 0.5%"', '"lost < 0.5%"'))
    out = tmp_path / "out"
    assert main(["explore", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"error: key 'explore.predicates.small' in {path}")
    assert not out.exists()


def test_a_config_without_explore_or_with_scenarios_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"has no \[explore\] table"):
        load_exploration(write(tmp_path, ""))
    with pytest.raises(ConfigError, match=r"it has \[scenarios\]; .*remove \[scenarios\]"):
        load_exploration(write(tmp_path, EXPLORE + '\n[scenarios.loud]\n"behaviour.mu" = 0.8\n'))


# Outcomes and predicates -------------------------------------------------------------------------------------
SERIES = pd.DataFrame({
    "day": [0, 1, 2, 3, 4, 5],
    "active_inc": [1.0, 0.99, 0.96, 0.97, 0.98, 0.99],
    "primary_inc": [1.0, 0.99, 0.96, 0.97, 0.98, 0.99],
    "active_riv": [0.01, 0.03, 0.06, 0.06, 0.04, 0.02],
    "primary_riv": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    "multihoming": [0.01, 0.02, 0.05, 0.04, 0.03, 0.015],
    "exit_inc": [0.0, 0.01, 0.04, 0.03, 0.02, 0.01],
    "mean_alarm": [0.0, 0.2, 0.5, 0.4, 0.3, 0.2],
})
OBS = Observables(series=SERIES, platforms=("inc", "riv"), incumbent="inc")


def builtin(kind: str, days: int = 0) -> Outcome:
    return Outcome(kind, builtin_expression(kind, "riv", days, "inc", 5), kind)


def test_built_in_outcomes_against_a_hand_computed_series() -> None:
    got = evaluate([builtin("peak"), builtin("peak_day"), builtin("loss"), builtin("multihoming"), builtin("exit"),
                    Outcome("after2", builtin_expression("after", "riv", 2, "inc", 5)),
                    Outcome("after4", builtin_expression("after", "riv", 4, "inc", 5)),
                    Outcome("mid", "mean(active.riv, 1, 3)"), Outcome("ratio", "max(active.riv / active.inc, 0, 5)")],
                   OBS)
    assert got["peak"] == 0.06
    assert got["peak_day"] == 2  # the first of the two days at the peak
    assert got["loss"] == pytest.approx(0.04)  # (1.0 - 0.96) / 1.0
    assert got["after2"] == 0.04  # day 2 + 2
    assert math.isnan(got["after4"])  # day 6 is past the run's last day
    assert got["multihoming"] == 0.015 and got["exit"] == 0.01
    assert got["mid"] == pytest.approx((0.03 + 0.06 + 0.06) / 3)
    assert got["ratio"] == pytest.approx(0.06 / 0.96)


def test_predicates_hold_when_all_their_clauses_do_and_never_on_nan() -> None:
    values = pd.DataFrame({"peak": [0.05, 0.049, 0.02, math.nan], "loss": [0.001, 0.001, 0.02, 0.0]})
    below = Predicate("below", "peak < 5%", (parse_clause("peak < 5%"),))
    small = Predicate("small", "", (parse_clause("peak<=5%"), parse_clause("loss < 0.005")))
    big = Predicate("big", "", (parse_clause("loss > 1 %"),))
    got = predicate_values([below, small, big], values)
    assert got["below"].tolist() == [False, True, True, False]
    assert got["small"].tolist() == [True, True, False, False]
    assert got["big"].tolist() == [False, False, True, False]
    with pytest.raises(ValueError, match="expected '<outcome> <op> <number>'"):
        parse_clause("peak < five")
    assert parse_clause("x >= -2.5e-1").value == -0.25


# The design ----------------------------------------------------------------------------------------------------
def test_policies_of_a_scenario_share_its_seed_and_never_disables_the_event(tmp_path: Path) -> None:
    exp, design = load_exploration(write(tmp_path), scenarios=4, policies=4)
    specs = expand(exp)
    assert len(specs) == 16 and [s.point for s in specs] == list(range(16))
    for i in range(4):
        seeds = {(s.seed.entropy, s.seed.spawn_key) for s in specs[4 * i:4 * i + 4]}
        assert seeds == {(5, (i,))}  # scenario i's seed, common to its policies
    assert design.policies.index[0] == "reference" and design.policy_overrides[0] == {}
    assert design.policies.loc["reference"].tolist() == [12, 0.4]  # the config's own choices
    for k, over in enumerate(design.policy_overrides[1:], start=1):
        day = design.policies.iloc[k]["events.apology.day"]
        assert (over.get("events.apology.enabled") is False) == (day == 31)  # "never" = day after the last (30)
        if day == 31:
            assert "events.apology.day" not in over
            assert "apology" not in {e.id for e in specs[k].scenario.events}
    scenario = design.scenarios.iloc[1]
    assert specs[5].params["behaviour.mu"] == scenario["behaviour.mu"]
    assert specs[5].params["events.crackdown.intensity"] == pytest.approx(0.7 * scenario["news"])
    stratum = np.floor((design.scenarios["behaviour.mu"] - 0.1) / 0.8 * 4)
    assert sorted(stratum) == [0, 1, 2, 3]  # a Latin hypercube
    again = load_exploration(write(tmp_path), scenarios=4, policies=4)[1]
    pd.testing.assert_frame_equal(again.points(), design.points())  # seeded: the same design
    other = load_exploration(write(tmp_path, EXPLORE, BASE.replace("seed = 5", "seed = 6")), 4, 4)[1]
    assert not other.scenarios.equals(design.scenarios)


def small_posterior(folder: Path) -> Posterior:
    """Two particles of two model variants: a shared key, a key the media-only variant fixes (NaN there), a
    factor on an event's intensity, and another episode's own parameter (which does not apply)."""
    particles = pd.DataFrame({"behaviour.mu": [0.2, math.nan], "behaviour.lam": [0.05, 0.25],
                              "crackdown_scale": [0.5, 1.2], "elsewhere:behaviour.delta": [0.01, 0.02],
                              "model": ["contacts", "media_only"], "weight": [0.5, 0.5]})
    records = [{"column": "behaviour.mu", "key": "behaviour.mu", "episode": None, "low": 0.0, "high": 1.0},
               {"column": "behaviour.lam", "key": "behaviour.lam", "episode": None, "low": 0.0, "high": 1.0},
               {"column": "crackdown_scale", "key": "crackdown_scale", "episode": None, "low": 0.3, "high": 1.3,
                "scales": ["events.crackdown.intensity"]},
               {"column": "elsewhere:behaviour.delta", "key": "behaviour.delta", "episode": "elsewhere",
                "low": 0.0, "high": 0.1}]
    posterior = Posterior(particles, records, {"settings": {}})
    posterior.save(folder)
    return posterior


def test_scenarios_can_be_draws_of_a_posterior_besides_the_sampled_uncertainties(tmp_path: Path) -> None:
    small_posterior(tmp_path / "fit")
    reach = 'reach = { low = 0.5, high = 1.0, scales = ["events.apology.reach"] }\n'
    text = explore_text(explore='scenarios = 8\npolicies = 2\nposterior = "fit/posterior.parquet"\n',
                        explore__uncertainties=reach)
    exp, design = load_exploration(write(tmp_path, text))
    assert list(design.scenarios.columns) == ["behaviour.mu", "behaviour.lam", "crackdown_scale", "variant", "reach"]
    drawn = design.scenarios.drop(columns="reach").drop_duplicates().sort_values("variant")
    # media_only fixes mu at 0; the factor is its own value, not the intensity it scales; the other episode's
    # parameter is not an input; both particles are drawn (seeded) in 8 draws.
    assert drawn.to_dict("records") == [
        {"behaviour.mu": 0.2, "behaviour.lam": 0.05, "crackdown_scale": 0.5, "variant": "contacts"},
        {"behaviour.mu": 0.0, "behaviour.lam": 0.25, "crackdown_scale": 1.2, "variant": "media_only"}]
    assert design.notes == ("elsewhere:behaviour.delta: the elsewhere episode's own",)
    assert exp.inputs[str(tmp_path / "fit" / "posterior.parquet")] == Posterior.load(tmp_path / "fit").manifest[
        "posterior_sha256"]
    specs = expand(exp)
    for k in (0, 2, 5):  # policy k % 2 of scenario k // 2
        row = design.scenarios.iloc[k // 2]
        assert specs[k].params["behaviour.lam"] == row["behaviour.lam"]
        assert specs[k].params["events.crackdown.intensity"] == pytest.approx(0.7 * row["crackdown_scale"])
        assert specs[k].params["events.apology.reach"] == pytest.approx(0.7 * row["reach"])
        assert specs[k].params["behaviour.mu"] == row["behaviour.mu"]
    both = explore_text(explore='posterior = "fit/posterior.parquet"\n',
                        explore__uncertainties='"behaviour.mu" = { low = 0.1, high = 0.9 }\n')
    with pytest.raises(ConfigError, match=r"key 'explore.posterior' in .*: the posterior draws 'behaviour.mu', which"):
        load_exploration(write(tmp_path, both))


def test_an_exploration_of_posterior_draws_runs_and_is_analysed(tmp_path: Path) -> None:
    small_posterior(tmp_path / "fit")
    text = explore_text(explore='scenarios = 6\npolicies = 2\nposterior = "fit/posterior.parquet"\n',
                        explore__uncertainties="")
    out = tmp_path / "out"
    assert main(["explore", str(write(tmp_path, text)), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    e = files.load(out)
    assert e.uncertainties == ("behaviour.mu", "behaviour.lam", "crackdown_scale", "variant")
    assert len(e.runs) == 12 and set(e.runs["variant"]) <= {"contacts", "media_only"}
    assert list(e.scores.index) == e.inputs


def test_the_folder_and_hash_change_with_the_size_of_the_design(tmp_path: Path) -> None:
    path = write(tmp_path)
    assert load_exploration(path, 4, 3)[0].config_hash != load_exploration(path, 5, 3)[0].config_hash
    assert load_exploration(path, 4, 3)[0].config_hash == load_exploration(path, 4, 3)[0].config_hash


# The analysis -------------------------------------------------------------------------------------------------
def test_prim_finds_a_planted_box_within_0_05() -> None:
    rng = np.random.default_rng(2024)
    x = pd.DataFrame(rng.random((1000, 3)), columns=["x1", "x2", "x3"])
    y = ((x["x1"] > 0.7) & (x["x2"] < 0.3)).to_numpy()
    found = prim(x, y, "planted", "x1 > 0.7 and x2 < 0.3", ExploreSpec())
    limits = {b.input: b for b in found.limits}
    assert set(limits) == {"x1", "x2"}
    assert abs(limits["x1"].low - 0.7) < 0.05 and abs(limits["x2"].high - 0.3) < 0.05
    assert limits["x1"].qp_low < 1e-6 and math.isnan(limits["x1"].qp_high)  # only the restricted side is tested
    assert limits["x2"].qp_high < 1e-6 and math.isnan(limits["x2"].qp_low)
    assert found.box["density"] > 0.95 and found.box["coverage"] >= 0.5
    assert (found.trajectory["coverage"].iloc[0], found.trajectory["density"].iloc[0]) == (1.0, y.mean())
    scores = feature_scores(x, pd.DataFrame({"planted": y}), ["planted"], seed=1)["planted"]
    assert scores["x3"] < min(scores["x1"], scores["x2"])


def test_prim_is_skipped_for_a_predicate_that_always_or_never_holds() -> None:
    x = pd.DataFrame({"x": [0.1, 0.2, 0.3]})
    assert prim(x, np.ones(3), "p", "", ExploreSpec()).skipped == "it holds in every run: no box to find"
    assert prim(x, np.zeros(3), "p", "", ExploreSpec()).skipped == "it holds in no run: no box to find"


def test_robustness_satisficing_and_regret_by_hand() -> None:
    spec = ExploreSpec(outcomes=(Outcome("peak", "", goal="min"), Outcome("gain", "", goal="max"), Outcome("info", "")),
                       predicates=(Predicate("ok", "peak < 0.05", (parse_clause("peak < 0.05"),)),), policies=2)
    policies = pd.DataFrame({"lever": [1, 2]}, index=pd.Index(["a", "b"], name="policy"))
    design = Design(spec, pd.DataFrame(index=range(3)), policies, ({},) * 3, ({}, {}))
    table = pd.DataFrame({"scenario": [0, 0, 1, 1, 2], "policy": ["a", "b", "a", "b", "a"],
                          "peak": [0.04, 0.06, 0.10, 0.07, 0.01], "gain": [1.0, 3.0, 2.0, 2.0, 9.0],
                          "info": [0.0] * 5})
    table["ok"] = table["peak"] < 0.05
    r = robustness(table, design)  # scenario 2 lacks policy b: left out
    assert r["scenarios"].tolist() == [2, 2]
    assert r["satisficing:ok"].tolist() == [0.5, 0.0]
    # peak (min): scenario 0 best 0.04 -> regrets a 0, b 0.02; scenario 1 best 0.07 -> a 0.03, b 0
    assert r["regret_max:peak"].tolist() == pytest.approx([0.03, 0.02])
    assert r["regret_mean:peak"].tolist() == pytest.approx([0.015, 0.01])
    assert r["regret_p90:peak"].tolist() == pytest.approx([0.027, 0.018])
    # gain (max): scenario 0 best 3 -> a 2, b 0; scenario 1 best 2 -> a 0, b 0
    assert r["regret_max:gain"].tolist() == [2.0, 0.0] and r["mean:gain"].tolist() == [1.5, 2.5]
    assert "regret_max:info" not in r


# Running, resuming, plotting -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def explored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small exploration, run serially in this process."""
    tmp = tmp_path_factory.mktemp("explore")
    path = write(tmp)
    assert main(["explore", str(path), "--out", str(tmp / "out"), "--workers", "1", "--quiet"]) == 0
    return tmp / "out"


def test_the_folder_holds_every_run_and_the_analysis(explored: Path) -> None:
    results = load_results(explored)
    assert len(results.done) == 18 and results.manifest["sweep"]["method"] == "explore"
    assert {"param:behaviour.mu", "param:events.crackdown.intensity", "peak_rival"} <= set(results.runs.columns)
    e = files.load(explored)
    assert e.runs["run_id"].tolist() == sorted(results.done["run_id"])
    assert e.inputs == ["behaviour.mu", "news", "events.apology.day", "events.apology.credibility"]
    assert e.never == {"events.apology.day": 31}
    # The built-in peak is the same number as the run's own outcome.
    peaks = results.done.set_index("run_id")["peak_rival"]
    assert e.runs.set_index("run_id")["peak"].equals(peaks.loc[e.runs["run_id"]].rename("peak"))
    assert e.runs["small"].tolist() == ((e.runs["peak"] < 0.03) & (e.runs["loss"] < 0.005)).tolist()
    assert set(e.scores.columns) == {"peak", "loss", "late", "small"} and list(e.scores.index) == e.inputs
    assert list(e.robustness.index) == ["reference", "p1", "p2"]


def test_the_printed_summary_states_each_predicate_and_each_policy(explored: Path) -> None:
    e = files.load(explored)
    text = summary(e)
    holds = int(e.runs["small"].sum())
    assert f"small (peak < 3% and loss < 0.5%): holds in {holds} of 18 runs ({100 * holds / 18:.1f}%)" in text
    rows = [line.split() for line in text.splitlines() if line.split()[:1] in (["reference"], ["p1"], ["p2"])]
    assert [r[0] for r in rows] == ["reference", "p1", "p2"]
    share = e.robustness.loc["reference", "satisficing:small"]
    assert rows[0][1:3] == ["12", "0.4"] and f"{100 * share:.1f}%" in rows[0]  # the config's apology: day 12, 0.4


def test_figures_are_drawn_from_the_saved_analysis_only(explored: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(explored, folder)
    assert main(["plot", str(folder), "--out", str(tmp_path / "figures")]) == 0
    assert {p.name for p in (tmp_path / "figures").iterdir()} == {
        "prim_small.png", "feature_scores.png", "robustness.png", "scatter_small.png"}
    e = files.load(folder)
    shutil.rmtree(folder)  # the figures need nothing from the folder once it is read
    p = e.prim["small"]
    fig = plot_prim(e, "small")
    offsets = artist(fig, "prim:trajectory").get_offsets()
    np.testing.assert_allclose(offsets, p.trajectory[["coverage", "density"]].to_numpy())
    np.testing.assert_allclose(artist(fig, "prim:chosen").get_offsets(), [[p.box["coverage"], p.box["density"]]])
    heat = artist(plot_feature_scores(e), "scores").get_array()
    np.testing.assert_allclose(np.ma.filled(heat, np.nan), e.scores.to_numpy(dtype=float))
    fig = plot_robustness(e)
    widths = [bar.get_width() for bar in artist_group(fig, "satisficing:small")]
    np.testing.assert_allclose(widths, 100 * e.robustness["satisficing:small"].astype(float))
    fig = plot_scatter(e, "small")
    ys = np.concatenate([artist(fig, f"scatter:peak:{c}:{w}").get_offsets()[:, 1] for c in [e.scores["peak"].idxmax()]
                         for w in ("holds", "fails")])
    assert sorted(ys) == pytest.approx(sorted(100 * e.runs["peak"]))


def artist(fig: Figure, gid: str) -> Artist:
    """The one artist of ``fig`` with this gid."""
    found = [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]
    assert len(found) == 1, f"{len(found)} artists with gid {gid!r}"
    return found[0]


def artist_group(fig: Figure, gid: str) -> list[Rectangle]:
    """The bars with this gid."""
    return [bar for ax in fig.axes for bar in ax.patches if bar.get_gid() == gid]


def test_a_damaged_analysis_is_an_error_naming_the_file(explored: Path, tmp_path: Path) -> None:
    folder = tmp_path / "damaged"
    shutil.copytree(explored, folder)
    (folder / "explore" / "runs.parquet").write_bytes(b"not parquet")
    with pytest.raises(ResultsError, match=r"explore/runs.parquet is damaged .*run 'sim explore CONFIG --out"):
        files.load(folder)
    (folder / "explore" / "analysis.json").unlink()
    with pytest.raises(ResultsError, match=r"analysis.json is missing"):
        files.load(folder)


@pytest.mark.slow
def test_a_killed_exploration_resumes_to_identical_results(tmp_path: Path) -> None:
    path = write(tmp_path, EXPLORE.replace("scenarios = 6", "scenarios = 12"), BASE.replace("n = 400", "n = 3000"))
    command = [sys.executable, "-m", "sim.cli", "explore", str(path), "--workers", "1", "--quiet"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([*command, "--out", str(killed)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((killed / "runs").glob("*.json"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in (killed / "runs").glob("*.json")}
    assert 5 <= len(before) < 36, "killed mid-exploration"
    assert not (killed / "explore").exists()
    subprocess.run([*command, "--out", str(killed)], cwd=ROOT, check=True, capture_output=True)
    after = {p.name: p.stat().st_mtime_ns for p in (killed / "runs").glob("*.json")}
    assert all(after[k] == v for k, v in before.items()), "finished runs were not recomputed"
    whole = tmp_path / "whole"
    subprocess.run([*command, "--out", str(whole)], cwd=ROOT, check=True, capture_output=True)
    for name in ("runs.parquet", "analysis.json"):
        assert (killed / "explore" / name).read_bytes() == (whole / "explore" / name).read_bytes(), name
    got, want = load_results(killed), load_results(whole)
    pd.testing.assert_frame_equal(got.runs.drop(columns="seconds"), want.runs.drop(columns="seconds"), check_exact=True)
    pd.testing.assert_frame_equal(got.timeseries, want.timeseries, check_exact=True)


@pytest.mark.slow
def test_a_process_pool_gives_the_serial_analysis(explored: Path, tmp_path: Path) -> None:
    path = next(explored.parent.glob("*.toml"))
    assert main(["explore", str(path), "--out", str(tmp_path / "pool"), "--workers", "2", "--quiet"]) == 0
    for name in ("runs.parquet", "analysis.json"):
        assert (tmp_path / "pool" / "explore" / name).read_bytes() == (explored / "explore" / name).read_bytes()
    assert json.loads((explored / "explore" / "analysis.json").read_text())["counts"]["failed"] == 0


@pytest.mark.slow
@pytest.mark.cluster
def test_a_dask_local_cluster_gives_the_serial_analysis(explored: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    path = next(explored.parent.glob("*.toml"))
    out = tmp_path / "dask"
    assert main(["explore", str(path), "--out", str(out), "--dask", "--workers", "2", "--quiet"]) == 0
    for name in ("runs.parquet", "analysis.json"):
        assert (out / "explore" / name).read_bytes() == (explored / "explore" / name).read_bytes(), name


@pytest.mark.slow
@pytest.mark.cluster
def test_scheduler_runs_an_exploration_on_a_running_cluster(explored: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    path = next(explored.parent.glob("*.toml"))
    out = tmp_path / "remote"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        assert main(["explore", str(path), "--out", str(out), "--scheduler", cluster.scheduler_address,
                     "--quiet"]) == 0
    for name in ("runs.parquet", "analysis.json"):
        assert (out / "explore" / name).read_bytes() == (explored / "explore" / name).read_bytes(), name


# Documentation -------------------------------------------------------------------------------------------------
def test_the_explore_reference_in_config_md_is_the_generated_one() -> None:
    doc = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    assert explore_reference() in doc, "docs/CONFIG.md is out of date: paste sim.explore.reference.explore_reference()"


def test_the_shipped_study_loads() -> None:
    exp, design = load_exploration(ROOT / "experiments" / "explore_2014.toml", scenarios=3, policies=4)
    assert len(expand(exp)) == 12 and design.policies.index[0] == "reference"
    assert {p.name for p in design.spec.predicates} >= {"small_exodus"}
