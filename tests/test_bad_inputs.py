"""Bad inputs, as a hostile new user would give them: every one gets one line on stderr that names the file
or flag and what was expected, exit status 2, no traceback, and no results folder (docs/CONFIG.md)."""

from __future__ import annotations

import argparse
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pytest

from sim.cli import build_parser, main

#: A small valid experiment: every case below changes one thing.
GOOD = """
[experiment]
name = "tiny"
seed = 3
replications = 2
steps = 20
engine = "array"

[population]
n = 300

[population.engaged]
share = 0.1

[network]
kind = "sbm"
mean_degree = 6
engaged_inside = 0.5

[platforms.incumbent]
incumbent = true
domestic = true
exposure = 0.8
initial_share = 1.0

[platforms.rival]
exposure = 0.05
initial_share = 0.01

[behaviour]
mu = 0.4

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
credibility = 0.3
"""


@dataclass(frozen=True)
class Case:
    """One bad input: ``argv`` (``{cfg}`` is the written config, ``{tmp}`` the test folder), extra files to
    write (name -> text or bytes), and what the one line must say."""

    id: str
    argv: tuple[str, ...]
    expect: str
    files: dict[str, str | bytes] = field(default_factory=dict)


def config(*changes: tuple[str, str], add: str = "", top: str = "") -> dict[str, str | bytes]:
    """GOOD with lines replaced (old, new), ``top`` put first (top-level keys) and ``add`` at the end, as
    cfg.toml."""
    text = GOOD
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return {"cfg.toml": top + text + add}


def run(cfg: dict[str, str | bytes], *extra: str) -> tuple[tuple[str, ...], dict[str, str | bytes]]:
    return ("run", "{cfg}", "--quiet", *extra), cfg


def case(id: str, expect: str, cfg: dict[str, str | bytes], *extra: str) -> Case:
    argv, files = run(cfg, *extra)
    return Case(id, argv, expect, files)


def path_graph(n: int) -> str:
    return "".join(f"{i} {i + 1}\n" for i in range(n - 1))


FILE_NET = ('kind = "sbm"\nmean_degree = 6\nengaged_inside = 0.5', 'kind = "file"\nfile = "g.txt"')

CASES: list[Case] = [
    # --- config files ------------------------------------------------------------------------------------
    Case("missing config", ("run", "{tmp}/nope.toml"), r"config file not found: .*nope.toml"),
    Case("config is a folder", ("run", "{tmp}"), r"config .* is a directory, expected a TOML file"),
    Case("binary config", ("run", "{tmp}/b.toml"), r"b.toml is not UTF-8 text \(byte 0xff at offset 0\)",
         {"b.toml": b"\xff\xfe\x00\x01"}),
    Case("latin-1 config", ("run", "{tmp}/l.toml"), r"l.toml is not UTF-8 text \(byte 0xe9",
         {"l.toml": GOOD.replace('name = "tiny"', 'name = "tiny"\ndescription = "caf\xe9"').encode("latin-1")}),
    Case("NUL bytes", ("run", "{tmp}/z.toml"), r"z.toml is not a text file \(it holds NUL bytes\)",
         {"z.toml": GOOD + "\x00"}),
    Case("not TOML", ("run", "{tmp}/t.toml"), r"t.toml: not valid TOML", {"t.toml": "[experiment\nname = 1"}),
    Case("empty config", ("run", "{tmp}/e.toml"), r"key 'platforms' in .*e.toml: expected tables",
         {"e.toml": ""}),
    Case("extends missing", ("run", "{tmp}/x.toml"), r"config file not found: .*x.toml: extends .*gone.toml",
         {"x.toml": 'extends = "gone.toml"\n'}),
    Case("extends binary", ("run", "{tmp}/x.toml"), r"x.toml: extends .*b.toml is not UTF-8",
         {"x.toml": 'extends = "b.toml"\n', "b.toml": b"\x89PNG\r\n"}),
    Case("extends a folder", ("run", "{tmp}/x.toml"), r"x.toml: extends .* is a directory",
         {"x.toml": 'extends = "."\n'}),
    Case("extends itself", ("run", "{tmp}/x.toml"), r"circular 'extends' in .*x.toml",
         {"x.toml": 'extends = "x.toml"\n'}),
    Case("extends a number", ("run", "{tmp}/x.toml"), r"key 'extends' in .*x.toml: expected a file name",
         {"x.toml": "extends = 3\n"}),
    case("unknown section", r"unknown key 'behavior' in .*cfg.toml; did you mean 'behaviour'",
         config(add="\n[behavior]\nmu = 0.3\n")),
    case("section not a table", r"key 'behaviour' in .*: expected a table, got 3",
         config(("[behaviour]\nmu = 0.4", ""), top="behaviour = 3\n")),
    # --- values ------------------------------------------------------------------------------------------
    case("replications 0", r"key 'experiment.replications' in .*: expected a value in \[1, 1000000\], got 0",
         config(("replications = 2", "replications = 0"))),
    case("replications text", r"key 'experiment.replications' .*: expected an integer, got '2'",
         config(("replications = 2", 'replications = "2"'))),
    case("replications 1.5", r"key 'experiment.replications' .*: expected an integer, got 1.5",
         config(("replications = 2", "replications = 1.5"))),
    case("steps 0", r"key 'experiment.steps' .*: expected a value in \[1, 100000\], got 0",
         config(("steps = 20", "steps = 0"))),
    case("steps a billion", r"key 'experiment.steps' .*: expected a value in \[1, 100000\], got 1000000000",
         config(("steps = 20", "steps = 1000000000"))),
    case("engine", r"key 'experiment.engine' .*: expected one of 'mesa', 'array', got 'numba'",
         config(('engine = "array"', 'engine = "numba"'))),
    case("negative seed", r"key 'experiment.seed' .*: expected a value >= 0, got -1",
         config(("seed = 3", "seed = -1"))),
    case("start date", r"key 'experiment.start_date' .*: expected an ISO date like 2014-09-01, got '2014-13-01'",
         config(('engine = "array"', 'engine = "array"\nstart_date = "2014-13-01"'))),
    case("name escapes the folder", r"key 'experiment.name' .*: expected a folder name .*, got '../../x'",
         config(('name = "tiny"', 'name = "../../x"'))),
    case("absolute name", r"key 'experiment.name' .*: expected a folder name .*, got '/tmp/x'",
         config(('name = "tiny"', 'name = "/tmp/x"'))),
    case("name with a space", r"key 'experiment.name' .*: expected a folder name",
         config(('name = "tiny"', 'name = "my run"'))),
    case("one user", r"key 'population.n' .*: expected a value >= 2, got 1", config(("n = 300", "n = 1"))),
    case("n in text", r"key 'population.n' .*: expected an integer, got 'many'",
         config(("n = 300", 'n = "many"'))),
    case("a trillion users", r"needs about .* GB \(1,000,000,000,000 users.*GB of memory available",
         config(("n = 300", "n = 1000000000000"))),
    case("concern out of its range", r"key 'population.concern' .*: a uniform distribution drawing values in "
         r"\[5.0, 9.0\] leaves the trait's range \(in \[0.0, 1.0\]\)",
         config(add='\n[population.concern]\ndist = "uniform"\nlow = 5.0\nhigh = 9.0\n')),
    case("attention fixed above 1", r"key 'population.attention' .*leaves the trait's range",
         config(add='\n[population.attention]\ndist = "fixed"\nvalue = 1.5\nhigh = 2.0\n')),
    case("fixed value outside low/high", r"key 'population.attention.value' .*expected a value in \[low, high\]",
         config(add='\n[population.attention]\ndist = "fixed"\nvalue = 0.9\nhigh = 0.5\n')),
    case("negative inertia", r"key 'population.inertia' .*leaves the trait's range \(in \[0.0, 1000.0\]\)",
         config(add='\n[population.inertia]\ndist = "normal"\nmean = 0.4\nsd = 0.1\nlow = -1.0\nhigh = 2.0\n')),
    case("unknown distribution", r"key 'population.concern.dist' .*expected one of 'beta', 'normal'",
         config(add='\n[population.concern]\ndist = "gamma"\n')),
    case("low above high", r"table 'population.concern' .*low \(0.8\) must not exceed high \(0.2\)",
         config(add='\n[population.concern]\ndist = "uniform"\nlow = 0.8\nhigh = 0.2\n')),
    case("engaged share 1.5", r"key 'population.engaged.share' .*expected a value in \[0.0, 1.0\], got 1.5",
         config(("share = 0.1", "share = 1.5"))),
    case("taste sd negative", r"key 'population.taste_sd' .*expected a value in \[0.0, 1000.0\], got -0.1",
         config(("n = 300", "n = 300\ntaste_sd = -0.1"))),
    case("seed adopters above n", r"key 'population.seed_adopters' .*expected at most population.n \(300\)",
         config(("n = 300", "n = 300\nseed_adopters = 301"))),
    case("b_net inf", r"key 'behaviour.b_net' .*expected a finite number, got inf",
         config(("mu = 0.4", "mu = 0.4\nb_net = inf"))),
    case("b_pull -inf", r"key 'behaviour.b_pull' .*expected a finite number, got -inf",
         config(("mu = 0.4", "mu = 0.4\nb_pull = -inf"))),
    case("tau inf", r"key 'behaviour.tau' .*expected a finite number, got inf",
         config(("mu = 0.4", "mu = 0.4\ntau = inf"))),
    case("exit level -inf", r"key 'behaviour.exit_level' .*expected a finite number, got -inf",
         config(("mu = 0.4", "mu = 0.4\nexit_level = -inf"))),
    case("habit nan", r"key 'behaviour.habit' .*expected a finite number, got nan",
         config(("mu = 0.4", "mu = 0.4\nhabit = nan"))),
    case("mu above 1", r"key 'behaviour.mu' .*expected a value in \[0.0, 1.0\], got 2",
         config(("mu = 0.4", "mu = 2"))),
    case("rule", r"key 'behaviour.rule' .*expected one of 'ppm', 'threshold', 'bass', got 'majority'",
         config(("mu = 0.4", 'mu = 0.4\nrule = "majority"'))),
    case("negative rate", r"key 'behaviour.lam' .*expected a value in \[0.0, 1.0\], got -0.1",
         config(("mu = 0.4", "mu = 0.4\nlam = -0.1"))),
    case("buzz days 0", r"key 'behaviour.buzz_days' .*expected a value >= 1, got 0",
         config(("mu = 0.4", "mu = 0.4\nbuzz_days = 0"))),
    case("behaviour typo", r"unknown key 'behaviour.b_psh' .*did you mean 'b_push'",
         config(("mu = 0.4", "mu = 0.4\nb_psh = 1"))),
    # --- networks ----------------------------------------------------------------------------------------
    case("network kind", r"key 'network.kind' .*expected one of .*got 'lattice'",
         config(('kind = "sbm"', 'kind = "lattice"'))),
    *(case(f"mean degree N for {kind}", rf"key 'network.mean_degree' .*expected at most N - 1 = 299 for kind "
           rf"'{kind}' \(population.n is 300\), got 300",
           config(('kind = "sbm"\nmean_degree = 6', f'kind = "{kind}"\nmean_degree = 300')))
      for kind in ("erdos_renyi", "chung_lu")),
    case("mean degree 1000 for sbm", r"expected at most N - 1 = 299 for kind 'sbm' .*got 1000",
         config(("mean_degree = 6", "mean_degree = 1000"))),
    case("mean degree given for a complete graph", r"key 'network.mean_degree' .*does not apply to kind "
         r"'complete'", config(('kind = "sbm"', 'kind = "complete"'))),
    *(case(f"mean degree {d} for {kind}", rf"key 'network.mean_degree' .*expected an even whole number >= 2 for "
           rf"kind '{kind}' \(each user adds mean_degree / 2 links\), got {d}",
           config(('kind = "sbm"\nmean_degree = 6', f'kind = "{kind}"\nmean_degree = {d}')))
      for kind in ("watts_strogatz", "barabasi_albert", "powerlaw_cluster") for d in ("0", "5", "4.5")),
    case("growth model above N", r"expected at most N - 1 = 299 for kind 'barabasi_albert'",
         config(('kind = "sbm"\nmean_degree = 6', 'kind = "barabasi_albert"\nmean_degree = 400'))),
    case("empty engaged block", r"key 'population.engaged.share' .*needs at least 2 users in the engaged "
         r"community and 2 outside it \(engaged: 0, rest: 300\)", config(("share = 0.1", "share = 0.0"))),
    case("everyone engaged in an sbm", r"needs at least 2 users in the engaged community and 2 outside it",
         config(("share = 0.1", "share = 1.0"))),
    case("engaged block too small for its ties", r"key 'network.engaged_inside' .*would need 24 contacts "
         r"inside the engaged community, which has 5 other users",
         config(("share = 0.1", "share = 0.02"), ("mean_degree = 6", "mean_degree = 30"),
                ("engaged_inside = 0.5", "engaged_inside = 0.8"))),
    case("engaged ties outnumber the rest", r"key 'network.engaged_inside' .*ties outside it, more than",
         config(("share = 0.1", "share = 0.7"), ("engaged_inside = 0.5", "engaged_inside = 0.0"))),
    case("file without file kind", r"key 'network.file' .*only used with network.kind = 'file'",
         config(("engaged_inside = 0.5", 'engaged_inside = 0.5\nfile = "g.txt"'))),
    case("file kind without file", r"key 'network.file' .*required when network.kind = 'file'",
         config(('kind = "sbm"\nmean_degree = 6\nengaged_inside = 0.5', 'kind = "file"'))),
    case("Mesa engine on a huge complete graph", r"key 'experiment.engine' .*draws complete graphs up to 2,000",
         config(('engine = "array"', 'engine = "mesa"'), ("n = 300", "n = 3000"),
                ('kind = "sbm"\nmean_degree = 6\nengaged_inside = 0.5', 'kind = "complete"'))),
    # --- graph files -------------------------------------------------------------------------------------
    case("graph file missing", r"key 'network.file' in .*: graph file not found: .*g.txt", config(FILE_NET)),
    Case("graph file is a folder", ("run", "{cfg}"), r"key 'network.file' .*g.txt is a directory",
         {**config(FILE_NET), "g.txt/a": "x"}),
    case("malformed edge-list line", r"key 'network.file' .*g.txt line 3: expected two user labels and "
         r"optionally a numeric weight, got '2'", {**config(FILE_NET), "g.txt": "0 1\n1 2\n2\n3 4\n"}),
    case("a label for a weight", r"g.txt line 1: expected two user labels .*got '0 1 strong'",
         {**config(FILE_NET), "g.txt": "0 1 strong\n"}),
    case("self-loop in an edge list", r"g.txt line 2: user '1' is linked to itself",
         {**config(FILE_NET), "g.txt": "0 1\n1 1\n"}),
    case("empty graph file", r"g.txt has 0 users; a network needs at least 2 users",
         {**config(FILE_NET), "g.txt": "# nothing\n"}),
    case("graph with other users", r"key 'population.n' .*has 40 users, population.n is 300; set "
         r"population.n = 40", {**config(FILE_NET), "g.txt": path_graph(40)}),
    case("graph file not UTF-8", r"g.txt is not UTF-8 text", {**config(FILE_NET), "g.txt": b"0 1\n\xff 2\n"}),
    case("malformed GraphML", r"cannot read .*g.graphml as graphml",
         {**config((FILE_NET[0], 'kind = "file"\nfile = "g.graphml"')), "g.graphml": "<graphml><oops"}),
    case("GraphML with a self-loop", r"g.graphml links user '1' to itself",
         {**config((FILE_NET[0], 'kind = "file"\nfile = "g.graphml"')),
          "g.graphml": "".join(nx.generate_graphml(nx.Graph([(0, 1), (1, 1)])))}),
    case("mean degree given for a file", r"key 'network.mean_degree' .*does not apply to kind 'file'",
         {**config((FILE_NET[0], 'kind = "file"\nfile = "g.txt"\nmean_degree = 4')), "g.txt": path_graph(300)}),
    # --- platforms and events ----------------------------------------------------------------------------
    case("no platforms", r"key 'platforms' .*expected tables \[platforms.<name>\]",
         {"cfg.toml": GOOD.split("[platforms.incumbent]")[0] + "[behaviour]\nmu = 0.4\n"}),
    case("two incumbents", r"expected exactly one platform with incumbent = true, found 2",
         config(("[platforms.rival]", "[platforms.rival]\nincumbent = true"))),
    case("no incumbent", r"expected exactly one platform with incumbent = true, found 0",
         config(("incumbent = true\n", ""))),
    case("no rival", r"expected at least one rival besides the incumbent",
         {"cfg.toml": GOOD.split("[platforms.rival]")[0] + "[behaviour]\nmu = 0.4\n"}),
    case("platform name with a space", r"key 'platforms.tele .name' .*expected an identifier",
         config(("[platforms.rival]", '[platforms."tele "]'))),
    case("platform name in capitals", r"key 'platforms.Rival.name' .*expected an identifier",
         config(("[platforms.rival]", "[platforms.Rival]"))),
    case("sixteen platforms", r"expected at most 15 platforms .*found 16",
         config(add="".join(f"\n[platforms.r{i}]\n" for i in range(14)))),
    case("platform not a table", r"key 'platforms.rival' .*expected a table",
         config(("[platforms.rival]\nexposure = 0.05\ninitial_share = 0.01", "[platforms]\nrival = 3"))),
    case("exposure above 1", r"key 'platforms.rival.exposure' .*expected a value in \[0.0, 1.0\], got 1.5",
         config(("exposure = 0.05", "exposure = 1.5"))),
    case("initial share negative", r"key 'platforms.rival.initial_share' .*got -0.1",
         config(("initial_share = 0.01", "initial_share = -0.1"))),
    case("appeal inf", r"key 'platforms.rival.appeal' .*expected a finite number, got inf",
         config(("exposure = 0.05", "exposure = 0.05\nappeal = inf"))),
    case("events not an array", r"key 'events' .*expected an array of tables",
         {"cfg.toml": "events = 3\n" + GOOD.split("[[events]]")[0]}),
    case("event without day", r"event 'crackdown' .*'day' and 'kind' are required",
         config(("day = 3\n", ""))),
    case("event kind", r"key 'events.crackdown.kind' .*got 'annoucement'; did you mean 'announcement'",
         config(('kind = "announcement"', 'kind = "annoucement"'))),
    case("event key of another kind", r"key 'events.apology.intensity' .*does not apply here",
         config(("credibility = 0.3", "credibility = 0.3\nintensity = 0.5"))),
    case("event on day 0", r"key 'events.crackdown.day' .*expected a value >= 1, got 0",
         config(("day = 3", "day = 0"))),
    case("duplicate event ids", r"event ids must be unique, repeated: crackdown",
         config(('id = "apology"', 'id = "crackdown"'))),
    case("event id not an identifier", r"key 'events.Crack Down.id' .*expected an identifier",
         config(('id = "crackdown"', 'id = "Crack Down"'))),
    case("localisation of an unknown rival", r"key 'events.loc.platform' .*expected a rival \(rival\), got 'tg'",
         config(add='\n[[events]]\nid = "loc"\nday = 5\nkind = "localisation"\nplatform = "tg"\n')),
    case("localisation of the incumbent", r"expected a rival \(rival\), got 'incumbent'",
         config(add='\n[[events]]\nid = "loc"\nday = 5\nkind = "localisation"\nplatform = "incumbent"\n')),
    case("reach above 1", r"key 'events.crackdown.reach' .*got 2", config(("reach = 0.9", "reach = 2"))),
    case("coverage of 0 days", r"key 'events.crackdown.duration_days' .*expected a value >= 1",
         config(("intensity = 0.7", "intensity = 0.7\nduration_days = 0"))),
    case("negative outage severity", r"key 'events.down.severity' .*expected a value in \[0.0, 1000.0\]",
         config(add='\n[[events]]\nid = "down"\nday = 5\nkind = "outage"\nseverity = -1\n')),
    case("exposure_to 2", r"key 'events.apology.exposure_to' .*expected a value in \[-1.0, 1.0\]",
         config(("credibility = 0.3", "credibility = 0.3\nexposure_to = 2"))),
    # --- scenarios and sweeps ----------------------------------------------------------------------------
    case("scenarios not tables", r"key 'scenarios' .*expected tables", config(top="scenarios = 3\n")),
    case("scenario not a table", r"key 'scenarios.x' .*expected a table of overrides",
         config(add="\n[scenarios]\nx = 3\n")),
    case("scenario name", r"key 'scenarios.No Apology' .*expected an identifier",
         config(add='\n[scenarios."No Apology"]\n"events.apology.enabled" = false\n')),
    case("scenario typo", r"unknown key 'behaviour.muu' in .*\[scenarios.x\]; did you mean 'mu'",
         config(add='\n[scenarios.x]\n"behaviour.muu" = 0.2\n')),
    case("scenario event typo", r"no event with id 'apolgy'; did you mean 'apology'",
         config(add='\n[scenarios.x]\n"events.apolgy.day" = 4\n')),
    case("scenario changes the replications", r"key 'experiment.replications' in .*\[scenarios.x\]: holds for "
         r"the whole experiment", config(add='\n[scenarios.x]\n"experiment.replications" = 9\n')),
    case("scenario value out of range", r"key 'behaviour.mu' in .*\[scenarios.x\].*expected a value in",
         config(add='\n[scenarios.x]\n"behaviour.mu" = 3\n')),
    case("sweep not a table", r"key 'sweep' .*expected a table of dotted keys", config(top="sweep = 3\n")),
    case("sweep method", r"key 'sweep.method' .*expected 'grid' or 'lhs', got 'random'",
         config(add='\n[sweep]\nmethod = "random"\n"behaviour.mu" = [0.1]\n')),
    case("sweep nothing", r"key 'sweep' .*no parameters to sweep", config(add='\n[sweep]\nmethod = "grid"\n')),
    case("empty sweep list", r"sweep.\"behaviour.mu\".*expected a non-empty list",
         config(add='\n[sweep]\n"behaviour.mu" = []\n')),
    case("sweep of one number", r"sweep.\"behaviour.mu\".*expected a list of values, got 0.3",
         config(add='\n[sweep]\n"behaviour.mu" = 0.3\n')),
    case("lhs without samples", r"key 'sweep.samples' .*expected a positive integer for method 'lhs'",
         config(add='\n[sweep]\nmethod = "lhs"\n"behaviour.mu" = { low = 0.1, high = 0.5 }\n')),
    case("lhs low above high", r"low \(0.5\) exceeds high \(0.1\)",
         config(add='\n[sweep]\nmethod = "lhs"\nsamples = 4\n"behaviour.mu" = { low = 0.5, high = 0.1 }\n')),
    case("lhs bound in text", r"expected \{low = <number>, high = <number>\}",
         config(add='\n[sweep]\nmethod = "lhs"\nsamples = 4\n"behaviour.mu" = { low = "a", high = 1 }\n')),
    case("lhs infinite bound", r"expected finite low and high",
         config(add='\n[sweep]\nmethod = "lhs"\nsamples = 4\n"behaviour.tau" = { low = 0.0, high = inf }\n')),
    case("sweep value out of range", r"\[sweep\] behaviour.mu = 2.0.*expected a value in \[0.0, 1.0\]",
         config(add='\n[sweep]\n"behaviour.mu" = [0.2, 2.0]\n')),
    case("sweep of the seed", r"'experiment.seed' holds for the whole experiment and cannot be swept",
         config(add='\n[sweep]\n"experiment.seed" = [1, 2]\n')),
    case("sweep point impossible with a scenario", r"at sweep point .*expected at most N - 1 = 49",
         config(add='\n[scenarios.small]\n"population.n" = 50\n"population.engaged.share" = 0.2\n'
                    '[sweep]\n"network.mean_degree" = [4, 60]\n'), "--set", "network.engaged_inside=0.1"),
    # --- command line ------------------------------------------------------------------------------------
    case("workers 0", r"argument --workers: expected a whole number >= 1 \(leave it out for all cores\), got 0",
         config(), "--workers", "0"),
    case("workers -2", r"argument --workers: expected a whole number >= 1", config(), "--workers", "-2"),
    case("workers in words", r"argument --workers: expected a whole number, got 'two'", config(),
         "--workers", "two"),
    case("steps 0 on the command line", r"argument --steps: expected a whole number between 1 and 100000, got 0",
         config(), "--steps", "0"),
    case("steps too many", r"argument --steps: expected a whole number between 1 and 100000, got 200000",
         config(), "--steps", "200000"),
    case("replications 0 on the command line",
         r"argument --replications: expected a whole number between 1 and 1000000",
         config(), "--replications", "0"),
    case("negative seed on the command line", r"argument --seed: expected a whole number >= 0", config(),
         "--seed", "-1"),
    case("engine on the command line", r"argument --engine: invalid choice: 'numba'", config(),
         "--engine", "numba"),
    case("--set without =", r"--set 'behaviour.mu': expected key=value", config(), "--set", "behaviour.mu"),
    case("--set without key", r"--set '=3': expected key=value", config(), "--set", "=3"),
    case("--set unknown key", r"unknown key 'behaviour.muu' in --set; did you mean 'mu'", config(),
         "--set", "behaviour.muu=0.3"),
    case("--set unknown event", r"override 'events.nope.day' in --set: no event with id 'nope'", config(),
         "--set", "events.nope.day=3"),
    case("--set out of range", r"key 'behaviour.mu' in .*cfg.toml with --set behaviour.mu: expected a value in",
         config(), "--set", "behaviour.mu=2"),
    case("--set inf", r"key 'behaviour.b_net' .*with --set behaviour.b_net: expected a finite number, got inf",
         config(), "--set", "behaviour.b_net=inf"),
    case("--set n in words", r"key 'population.n' .*expected an integer, got 'abc'", config(),
         "--set", "population.n=abc"),
    case("--set against a sweep", r"--set behaviour.mu: the experiment sweeps 'behaviour.mu'",
         config(add='\n[sweep]\n"behaviour.mu" = [0.1, 0.2]\n'), "--set", "behaviour.mu=0.3"),
    case("--out is a file", r"--out: .*not_a_folder is a file, expected a folder",
         {**config(), "not_a_folder": "x"}, "--out", "{tmp}/not_a_folder"),
    case("--out inside a file", r"--out: .*not_a_folder is a file, so .* cannot be created",
         {**config(), "not_a_folder": "x"}, "--out", "{tmp}/not_a_folder/out"),
    case("unknown flag", r"error: sim run: unrecognized arguments: --fast \(see 'sim run --help'\)", config(),
         "--fast"),
    Case("run without config", ("run",), r"error: sim run: the following arguments are required: config"),
    Case("unknown command", ("walk",), r"error: sim: argument COMMAND: invalid choice: 'walk'"),
    Case("results of a plain folder", ("results", "{tmp}"), r"is not a results folder \(no manifest.json\)"),
    Case("results of nothing", ("results", "{tmp}/nope"), r"nope is not a results folder"),
    Case("plot of a plain folder", ("plot", "{tmp}"), r"is not a results folder"),
    Case("plot format", ("plot", "{tmp}", "--format", "gif"), r"--format 'gif': expected a comma-separated list"),
    Case("viz port above 65535", ("viz", "--port", "99999"),
         r"argument --port: expected a whole number between 1 and 65535, got 99999"),
    Case("viz port 0", ("viz", "--port", "0"), r"argument --port: expected a whole number between 1 and 65535"),
    Case("viz port in words", ("viz", "--port", "http"), r"argument --port: expected a whole number, got 'http'"),
    Case("viz of a binary config", ("viz", "{tmp}/b.toml", "--port", "8799"), r"b.toml is not UTF-8 text",
         {"b.toml": b"\xff\xd8\xff"}),
    Case("viz of a missing config", ("viz", "{tmp}/nope.toml", "--port", "8799"), r"config file not found"),
    Case("viz of a bad config", ("viz", "{cfg}", "--port", "8799"), r"key 'behaviour.mu' .*expected a value in",
         config(("mu = 0.4", "mu = 4"))),
    # --- absurd magnitudes: every value that enters a utility is bounded (sim.config.schema.MAX_UTILITY) -------
    case("taste sd 1e308", r"key 'population.taste_sd' .*with --set population.taste_sd: expected a value in "
         r"\[0.0, 1000.0\], got 1e\+308", config(), "--set", "population.taste_sd=1e308"),
    case("rival appeal -1e308", r"key 'platforms.rival.appeal' .*expected a value in \[-1000.0, 1000.0\], got "
         r"-1e\+308", config(), "--set", "behaviour.b_appeal=10", "--set", "platforms.rival.appeal=-1e308"),
    *(case(f"{key} 1e6", rf"key 'behaviour.{key}' .*expected a value in \[0.0, 1000.0\], got 1000000",
           config(), "--set", f"behaviour.{key}=1e6")
      for key in ("b_net", "b_pull", "b_appeal", "b_priv", "b_push", "tau", "band", "habit", "bass_p", "bass_q")),
    case("exit level 1e9", r"key 'behaviour.exit_level' .*expected a value in \[-1000.0, 1000.0\]", config(),
         "--set", "behaviour.exit_level=1e9"),
    case("appeal gain -1e300", r"key 'events.loc.appeal_gain' .*expected a value in \[-1000.0, 1000.0\]",
         config(add='\n[[events]]\nid = "loc"\nday = 5\nkind = "localisation"\nappeal_gain = -1e300\n')),
    case("outage severity 1e300", r"key 'events.down.severity' .*expected a value in \[0.0, 1000.0\]",
         config(add='\n[[events]]\nid = "down"\nday = 5\nkind = "outage"\nseverity = 1e300\n')),
    case("inertia up to 1e300", r"key 'population.inertia' .*leaves the trait's range \(in \[0.0, 1000.0\]\)",
         config(add='\n[population.inertia]\ndist = "uniform"\nlow = 0.0\nhigh = 1e300\n')),
    case("threshold over all numbers", r"key 'population.threshold' .*uniform distribution drawing values in "
         r"\[-1e\+308, 1e\+308\] leaves the trait's range \(in \[-1000.0, 1000.0\]\)",
         config(add='\n[population.threshold]\ndist = "uniform"\nlow = -1e308\nhigh = 1e308\n')),
    # --- sizes: the number of runs is bounded before anything is allocated --------------------------------
    case("replications 1e11 on the command line", r"argument --replications: expected a whole number between 1 "
         r"and 1000000, got 100000000000", config(), "--replications", "100000000000"),
    case("replications 1e11 with --set", r"key 'experiment.replications' .*with --set experiment.replications: "
         r"expected a value in \[1, 1000000\]", config(), "--set", "experiment.replications=100000000000"),
    case("lhs of 1e10 samples", r"key 'sweep.samples' .*at most 1,000,000 .*got 10000000000",
         config(add='\n[sweep]\nmethod = "lhs"\nsamples = 10000000000\n"behaviour.mu" = { low = 0.1, high = 0.5 }\n')),
    case("grid of 1e8 points", r"key 'sweep' .*a grid of 100,000,000 points \(100 x 100 x 100 x 100\), more than "
         r"the 1,000,000", config(add="\n[sweep]\n" + "".join(
             f'"{k}" = [{", ".join(str(round(i / 1000, 3)) for i in range(100))}]\n'
             for k in ("behaviour.mu", "behaviour.delta", "behaviour.lam", "behaviour.lam_drop")))),
    case("runs in all above the bound", r"cfg.toml: 2 scenario\(s\) x 1,000 sweep point\(s\) x 1,000 "
         r"replication\(s\) = 2,000,000 runs, more than the 1,000,000 an experiment may have; lower --replications "
         r"or sweep.samples or the scenarios",
         config(add='\n[scenarios.x]\n"behaviour.mu" = 0.3\n[sweep]\nmethod = "lhs"\nsamples = 1000\n'
                    '"behaviour.delta" = { low = 0.01, high = 0.1 }\n'), "--replications", "1000"),
    Case("predict draws 1e11", ("predict", "{cfg}", "--draws", "100000000000"),
         r"argument --draws: expected a whole number between 1 and 1000000", config()),
    # --- snapshot days outside the run ----------------------------------------------------------------------
    case("snapshot day after the last", r"key 'experiment.snapshot_days' in .*cfg.toml: expected days in \[0, 20\] "
         r"\(day 0 to experiment.steps = 20\), got 500",
         config(("steps = 20", "steps = 20\nsnapshot_days = [0, 500]"))),
    case("snapshot day -1", r"key 'experiment.snapshot_days' .*expected days in \[0, 20\].*got -1",
         config(("steps = 20", "steps = 20\nsnapshot_days = [-1]"))),
    case("snapshot day after --steps", r"key 'experiment.snapshot_days' in .*cfg.toml with --steps: expected days in "
         r"\[0, 10\] .*got 15", config(("steps = 20", "steps = 20\nsnapshot_days = [15]")), "--steps", "10"),
    # --- the command line's overrides are validated with the file, and named ---------------------------------
    case("--set n still wrong for the graph file", r"key 'population.n' in .*cfg.toml with --set population.n: the "
         r"graph file .*has 5 users, population.n is 6; set population.n = 5",
         {**config(FILE_NET, ("share = 0.1", "share = 0.0")), "g.txt": "0 1\n1 2\n2 3\n3 4\n4 0\n"},
         "--set", "population.n=6"),
    case("a file error no override touches is the file's", r"key 'network.mean_degree' in .*cfg.toml: expected an "
         r"even whole number >= 2 for kind 'watts_strogatz'",
         config(('kind = "sbm"\nmean_degree = 6\nengaged_inside = 0.5', 'kind = "watts_strogatz"\nmean_degree = 5')),
         "--set", "behaviour.mu=0.3"),
    case("--set mean degree for a complete graph", r"key 'network.mean_degree' in .*with --set network.kind, --set "
         r"network.mean_degree: does not apply to kind 'complete'", config(), "--set", "network.kind=complete",
         "--set", "network.mean_degree=6"),
    case("--set unknown section", r"^error: unknown key 'foo.bar' in --set: no section 'foo'", config(),
         "--set", "foo.bar=1"),
    case("--set section typo", r"unknown key 'behavior.mu' in --set: no section 'behavior'; did you mean "
         r"'behaviour'", config(), "--set", "behavior.mu=0.3"),
    case("--set into the sweep", r"--set sweep.method: --set changes a scenario's keys, not the file's \[sweep\]",
         config(), "--set", "sweep.method=lhs"),
    case("--engine named", r"key 'experiment.engine' in .*cfg.toml with --set population.n, --set network.kind, "
         r"--engine: the Mesa engine draws complete graphs up to 2,000", config(), "--engine", "mesa", "--set",
         "population.n=3000", "--set", "network.kind=complete"),
    # --- other commands ---------------------------------------------------------------------------------------
    Case("sensitivity unknown flag", ("sensitivity", "{cfg}", "--fast"),
         r"error: sim sensitivity: unrecognized arguments: --fast \(see 'sim sensitivity --help'\)", config()),
    Case("validate unknown flag", ("validate", "--fast"),
         r"error: sim validate: unrecognized arguments: --fast \(see 'sim validate --help'\)"),
    Case("predict a TOML as the posterior", ("predict", "{cfg}", "--posterior", "{tmp}/p.toml"),
         r"--posterior .*p.toml: expected posterior.parquet written by 'sim calibrate' \(or its folder\), got a "
         r".toml file", {**config(), "p.toml": "x = 1\n"}),
    Case("predict a folder without a posterior", ("predict", "{cfg}", "--posterior", "{tmp}/sub"),
         r"/sub/posterior.parquet is missing", {**config(), "sub/x": "x"}),
    Case("predict outside the repository without --posterior", ("predict", "{cfg}"),
         r"--posterior: not given, and there is no shipped posterior at experiments/calibration/posterior.parquet "
         r"under .*; run from the repository's top folder or give --posterior FILE", config()),
]


def test_there_are_enough_cases_and_their_ids_are_unique():
    assert len(CASES) >= 120
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("bad", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_gets_one_clear_line_and_nothing_is_written(bad, tmp_path, monkeypatch, capsys):
    for name, content in bad.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path)  # the default output folder, results/, would appear here
    argv = [a.format(cfg=tmp_path / "cfg.toml", tmp=tmp_path) for a in bad.argv]
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors exit
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    assert re.search(bad.expect, lines[0]), lines[0]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, "something was written"


def test_a_busy_port_is_refused_before_the_server_starts(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["viz", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(rf"error: --host 127.0.0.1 --port {port}: cannot listen there \(.*\); choose another "
                        r"--port", err), err


def test_debug_shows_the_traceback_of_a_bad_input(tmp_path):
    (tmp_path / "cfg.toml").write_text(GOOD.replace("mu = 0.4", "mu = 4"))
    with pytest.raises(Exception, match="expected a value in"):
        main(["run", str(tmp_path / "cfg.toml"), "--debug"])


def test_the_good_config_runs(tmp_path, monkeypatch):
    """The cases' base config itself is valid (so each case fails for its own change)."""
    (tmp_path / "cfg.toml").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(tmp_path / "cfg.toml"), "--quiet", "--workers", "1", "--out", str(tmp_path / "o")]) == 0
    assert (Path(tmp_path) / "o" / "manifest.json").is_file()


@pytest.mark.parametrize("command", sorted(build_parser().commands))
def test_every_subcommand_names_itself_and_its_help_for_an_unknown_flag(command, tmp_path, monkeypatch, capsys):
    """``sim <command> ... --no-such-flag``: one line naming the subcommand and pointing to its own --help,
    before any work (its positional arguments are placeholders that would fail later)."""
    sub = build_parser().commands[command]
    positionals = [a for a in sub._actions if not a.option_strings and a.nargs != argparse.SUPPRESS]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main([command, *(["x"] * len(positionals)), "--no-such-flag"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1, err
    assert err[0] == (f"error: sim {command}: unrecognized arguments: --no-such-flag "
                      f"(see 'sim {command} --help')"), err[0]
    assert list(tmp_path.iterdir()) == []
