"""The ``sim`` command: run experiments, summarise and plot results, serve the browser page."""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import tomllib
from pathlib import Path
from typing import Any, NoReturn

from sim.config import ConfigError
from sim.config.schema import MAX_RUNS, MAX_STEPS

__all__ = ["main"]

EPILOG = """examples (an episode is a config in experiments/ with its data and targets; see README, Episodes):
  sim run experiments/EPISODE.toml                        run an episode's baseline (resumes if interrupted)
  sim run experiments/EPISODE.toml --replications 5 --set population.n=5000 --set behaviour.mu=0.3
  sim run experiments/EPISODE.toml --workers 2 --plot     in parallel, with figures (observed data included)
  sim run experiments/SWEEP.toml --dask                   on a local dask.distributed cluster
  sim results results/EPISODE/<folder>                    summary table of a results folder
  sim plot results/EPISODE/<folder> --format png,pdf      figures from saved results
  sim viz                                                 the interactive page on http://127.0.0.1:8765
  sim validate --quick                                    theory and every episode's targets -> a report
  sim calibrate experiments/A.toml experiments/B.toml     one posterior for both -> results/calibration/
  sim predict experiments/EPISODE.toml --draws 100        predictive intervals from the shipped posterior
  sim sensitivity experiments/EPISODE.toml                Morris + Sobol' -> docs/calibration/sensitivity.json
"""


class _Parser(argparse.ArgumentParser):
    """Command-line errors in one line (argparse's own prints the usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see '{self.prog} --help')\n")


def _whole(low: int, high: int | None = None, default: str = "") -> Any:
    """An argparse type: a whole number in [low, high]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            span = f"between {low} and {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"expected a whole number {span}{default}, got {value}")
        return value
    return parse


def _parse_set(items: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are read as TOML (numbers, true/false, "strings", [arrays]) and fall back
    to plain strings."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. --set behaviour.mu=0.3")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def cmd_run(args: argparse.Namespace) -> int:
    from contextlib import closing

    from tqdm import tqdm

    from sim import footprint
    from sim.experiment import expand, iter_results, late_events, load_experiment, make_executor
    from sim.progress import RunBars
    from sim.store import ResultsStore, load_results
    from sim.summary import summary_table

    overrides = _parse_set(args.set)
    flags = {}
    for flag, key in (("replications", "experiment.replications"), ("seed", "experiment.seed"),
                      ("engine", "experiment.engine"), ("steps", "experiment.steps")):
        if getattr(args, flag, None) is not None:
            overrides[key] = getattr(args, flag)
            flags[key] = f"--{flag}"
    if getattr(args, "posterior_draws", None) is not None:
        from sim.predict import prediction

        exp, skipped = prediction(args.config, args.posterior, args.posterior_draws, overrides, flags)
        for message in skipped:
            print(f"note: not applied from the posterior: {message}", file=sys.stderr)
    else:
        exp = load_experiment(args.config, overrides, flags)
    specs = expand(exp)
    late = late_events(specs)
    out = Path(args.out) if args.out else Path(exp.base.experiment.output) / exp.name
    _check_writable(out, "--out" if args.out else f"experiment.output/name in {args.config}")
    at_once = 1 if args.scheduler else min(len(specs), args.workers or os.cpu_count() or 1)
    footprint.require(max((s.scenario for s in specs), key=lambda sc: footprint.estimate(sc).bytes),
                      at_once=at_once, where=str(args.config))
    for notice in exp.notices:
        print(f"note: {notice}", file=sys.stderr)
    for label, late_here in late.items():
        print(f"note: scenario {label} ends on day {late_here['last_day']}, so {', '.join(late_here['events'])} "
              "never happen", file=sys.stderr)
    as_given = {"file": str(args.config), "text": Path(args.config).read_text(encoding="utf-8"),
                "overrides": overrides, "notices": list(exp.notices), "late_events": late, "inputs": exp.inputs,
                "posterior": exp.sweep.source if exp.sweep and exp.sweep.method == "posterior" else None}
    def note(message: str) -> None:
        print(f"note: {message}", file=sys.stderr)

    # The store holds the folder's lock until the aggregates are written: a second 'sim run' of the folder waits,
    # then finds every run done.
    store, resumed = ResultsStore.open(exp, specs, Path(args.out) if args.out else None, args.new, as_given, note)
    with store:
        finished = store.verify(specs, note)
        todo = [s for s in specs if s.run_id not in finished]
        verb = "resuming" if resumed else "writing"
        print(f"{verb} {store.root}: {len(specs)} runs ({len(finished)} already done, {len(todo)} to run)",
              file=sys.stderr)
        if todo:
            # A single run goes in this process: a worker pool would only add start-up time and a copy.
            workers = 1 if len(todo) == 1 and not (args.dask or args.scheduler) else args.workers
            if args.workers is not None and workers < args.workers:  # asked for, not the default: say why not
                note(f"one run to do: it runs in this process (--workers {args.workers} would add only start-up)")
            executor, resources = make_executor(workers, args.dask, args.scheduler)
            bars = None if args.quiet else RunBars()
            failed = 0
            try:
                # closing(): on Ctrl-C, SIGTERM or an error here, iter_results stops the runs in flight at once.
                with (tqdm(total=len(specs), initial=len(finished), disable=args.quiet, unit="run",
                           desc=exp.name, file=sys.stderr, position=0) as bar,
                      closing(iter_results(executor, todo, bars)) as results):
                    for result in results:
                        store.write(result)
                        failed += result.status == "failed"
                        bar.set_postfix(failed=failed)
                        bar.update()
            finally:
                if bars is not None:
                    bars.close()
                # a dask ClientExecutor has no cancel_futures (iter_results has cancelled what was in flight)
                executor.shutdown(wait=True, **({} if args.dask or args.scheduler else {"cancel_futures": True}))
                for resource in resources:
                    resource.close()
        counts = store.finish(len(specs), args.rebuild_aggregates, note)
    results = load_results(store.root)
    print(summary_table(results))
    print(f"\nresults: {store.root}")
    if args.plot:
        from sim.plots import plot_results

        for path in plot_results(results, Path(store.root) / "figures", formats=("png",)):
            print(f"figure: {path}")
    if counts["failed"]:
        print(f"{counts['failed']} run(s) failed; their tracebacks are in {store.root}/runs/*.json. "
              "Run the same command again to retry them.", file=sys.stderr)
        return 1
    return 0


def _check_writable(folder: Path, what: str) -> None:
    """Refuse an output folder that is a file or cannot be written, before anything is created or run."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{what}: {folder} is a file, expected a folder")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{what}: {existing} is a file, so {folder} cannot be created")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{what}: cannot write into {existing} (permission denied); choose another folder")


def cmd_results(args: argparse.Namespace) -> int:
    from sim.store import load_results
    from sim.summary import is_prediction, predictive_summary, summarise, summary_table

    results = load_results(args.folder)
    if args.csv:
        (predictive_summary if is_prediction(results) else summarise)(results).to_csv(sys.stdout, index=False)
    else:
        m = results.manifest
        print(f"{m['name']}: {m.get('description', '')}\nconfig {m['config_path']} (hash {m['config_hash']}), "
              f"root seed {m['root_seed']}, started {m['started']}\n")
        print(summary_table(results))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from sim.plots import FORMATS, plot_results
    from sim.store import load_results

    formats = tuple(f.strip().lower() for f in args.format.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        print(f"error: --format {args.format!r}: expected a comma-separated list of {', '.join(FORMATS)}",
              file=sys.stderr)
        return 2
    results = load_results(args.folder)
    out = Path(args.out) if args.out else Path(args.folder) / "figures"
    _check_writable(out, "--out" if args.out else f"figures of {args.folder} (give --out)")
    for path in plot_results(results, out, formats=formats):
        print(path)
    return 0


def cmd_explore(args: argparse.Namespace) -> int:
    from sim.experiment import expand, late_events
    from sim.explore import files
    from sim.explore.analysis import analyse, run_table
    from sim.explore.design import load_exploration
    from sim.explore.report import summary
    from sim.explore.run import executed
    from sim.store import load_results

    exp, design = load_exploration(args.config, args.scenarios, args.policies)
    specs = expand(exp)
    out = Path(args.out) if args.out else None
    _check_writable(out or Path(exp.base.experiment.output) / exp.name,
                    "--out" if args.out else f"experiment.output/name in {args.config}")

    def note(message: str) -> None:
        print(f"note: {message}", file=sys.stderr)

    for message in design.notes:
        note(f"not applied from the posterior: {message}")
    late = late_events(specs[:1])  # the levers' days are checked to fall within the run
    for late_here in late.values():
        note(f"the config ends on day {late_here['last_day']}, so {', '.join(late_here['events'])} never happen")
    as_given = {"file": str(args.config), "text": Path(args.config).read_text(encoding="utf-8"), "overrides": {},
                "notices": list(exp.notices), "late_events": late, "inputs": exp.inputs,
                "explore": {"scenarios": design.spec.scenarios, "policies": design.spec.policies}}
    with executed(exp, specs, out, args.new, as_given, args.workers, args.dask, args.scheduler, args.quiet,
                  note) as (root, counts):
        results = load_results(root)
        exploration = analyse(run_table(results, design, exp.base), design, exp.base.experiment.seed,
                              counts["failed"])
        folder = files.save(root, exploration)
    print(summary(exploration))
    print(f"\nresults: {root}\nanalysis: {folder}")
    if args.plot:
        from sim.plots import plot_results

        for path in plot_results(results, Path(root) / "figures", formats=("png",)):
            print(f"figure: {path}")
    if counts["failed"]:
        print(f"{counts['failed']} run(s) failed; their tracebacks are in {root}/runs/*.json. Run the same command "
              "again to retry them.", file=sys.stderr)
        return 1
    return 0


def cmd_viz(args: argparse.Namespace) -> int:
    import socket

    from sim.viz.server import serve

    with socket.socket() as probe:
        try:
            probe.bind((args.host, args.port))
        except OSError as exc:
            raise ConfigError(f"--host {args.host} --port {args.port}: cannot listen there ({exc.strerror}); "
                              "choose another --port") from None
    return serve(args.config, host=args.host, port=args.port)


def cmd_assets(args: argparse.Namespace) -> int:
    from sim.viz.assets import fill_solara_cache

    fill_solara_cache()
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.validation.report import write_report

    out = Path(args.out or ("results/validation-quick/VALIDATION.md" if args.quick else "docs/VALIDATION.md"))
    configs = [Path(c) for c in args.configs] or None
    sections = write_report(out, quick=args.quick, only=args.only or None, configs=configs)
    for section in sections:
        print(f"{'ok  ' if section.passed else 'MISS'}  {section.title}")
    print(f"report: {out}")
    return 0 if all(s.passed for s in sections) else 1


def _needs_salib() -> None:
    try:
        import SALib  # noqa: F401
    except ImportError as exc:
        raise ConfigError("the sensitivity analysis needs SALib: pip install -e '.[validate]'") from exc


def cmd_predict(args: argparse.Namespace) -> int:
    from sim.predict import DEFAULT_POSTERIOR

    if args.posterior is None and not DEFAULT_POSTERIOR.exists():
        raise ConfigError(f"--posterior: not given, and there is no shipped posterior at {DEFAULT_POSTERIOR} under "
                          f"{Path.cwd()}; run from the repository's top folder or give --posterior FILE")
    args.posterior = args.posterior or str(DEFAULT_POSTERIOR)
    args.posterior_draws = args.draws
    args.replications = args.steps = None
    return cmd_run(args)


def cmd_calibrate(args: argparse.Namespace) -> int:
    import datetime
    import logging

    from sim.fit.abc import QUICK, FitSettings, fit
    from sim.fit.figures import all_figures
    from sim.fit.posterior import POSTERIOR

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else Path("results") / "calibration" / stamp
    if (out / POSTERIOR).exists():
        raise ConfigError(f"--out {out}: it holds a posterior already, which a new fit would replace; choose "
                          "another folder (or leave --out out for a new one under results/calibration/)")
    _check_writable(out, "--out")
    quick = QUICK if args.quick else {}
    if args.max_minutes is not None and not (math.isfinite(args.max_minutes) and args.max_minutes > 0):
        raise ConfigError(f"--max-minutes: expected a number of minutes above 0, got {args.max_minutes}")
    given = {k: getattr(args, k) for k in ("n", "seeds", "population", "generations") if getattr(args, k) is not None}
    if args.models is not None:
        given["models"] = tuple(args.models.split(","))
    if args.max_minutes is not None:
        given["walltime_minutes"] = args.max_minutes
    settings = FitSettings(**{**quick, **given, "workers": args.workers or 1, "dask": args.dask,
                              "scheduler": args.scheduler, "rng_seed": args.rng_seed})
    for name in ("ABC", "ABC.History", "ABC.Sampler", "ABC.Distance", "ABC.Epsilon", "ABC.Population"):
        logging.getLogger(name).setLevel(logging.WARNING if args.quiet else logging.INFO)
    posterior = fit(args.configs, out, settings, leave_out=args.leave_out,
                    report=lambda m: print(m, file=sys.stderr), command=args.argv)
    kept = [c for c in args.configs if args.leave_out is None or _episode_name(c) != args.leave_out]
    for path in all_figures(posterior, kept, out / "figures", draws=args.draws, seed=args.rng_seed, n=settings.n):
        print(f"figure: {path}", file=sys.stderr)
    m = posterior.manifest
    print(f"model probabilities: {', '.join(f'{k} {v:.3f}' for k, v in m['model_probabilities'].items())}")
    print(f"posterior: {out / POSTERIOR} ({len(posterior.particles)} particles; manifest beside it)")
    return 0


def _episode_name(config: str | Path) -> str:
    from sim.config import load_config

    return load_config(config).experiment.name


def cmd_sensitivity(args: argparse.Namespace) -> int:
    _needs_salib()
    n = args.sobol_n
    if n != 0 and (n < 2 or n & (n - 1)):
        raise ConfigError(f"--sobol-n must be a power of 2 (e.g. 256), or 0 to stop after Morris; got {n}")
    from sim.sensitivity import sensitivity, sensitivity_section

    out = Path(args.out)
    result = sensitivity(args.config, morris_trajectories=args.trajectories, sobol_n=args.sobol_n, n=args.n,
                         rng_seed=args.rng_seed, out_dir=out)
    print(sensitivity_section(out / "sensitivity.json").markdown)
    print(f"\nresult: {out / 'sensitivity.json'} ({result.seconds / 60:.1f} min)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser = _Parser(
        prog="sim", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG, parents=[common],
        description="Agent-based model of surveillance-driven defection from a dominant messenger to rival "
                    "apps, and of the incumbent's and the state's responses.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_parser = sub.add_parser

    def add(*args: Any, **kwargs: Any) -> argparse.ArgumentParser:
        return add_parser(*args, parents=[common], **kwargs)

    sub.add_parser = add  # type: ignore[method-assign]  # every command takes --debug
    parser.commands = sub.choices  # type: ignore[attr-defined]  # for main's errors

    run = sub.add_parser("run", help="run an experiment config and write a results folder",
                         description="Run every scenario x sweep point x replication of CONFIG and write a "
                                     "results folder (manifest.json, runs.parquet, timeseries.parquet). Runs "
                                     "are stored as they finish; running the same command again resumes.")
    run.add_argument("config", help="experiment TOML file (see docs/CONFIG.md)")
    run.add_argument("--out", help="results folder (default: results/<name>/<UTC time>-<config hash>; an "
                                   "existing folder of the same config is resumed)")
    run.add_argument("--new", action="store_true", help="start a new folder even if one of this config exists")
    run.add_argument("--replications", type=_whole(1, MAX_RUNS), help="override experiment.replications")
    run.add_argument("--seed", type=_whole(0), help="override the root seed experiment.seed")
    run.add_argument("--engine", choices=("mesa", "array"), help="override experiment.engine")
    run.add_argument("--steps", type=_whole(1, MAX_STEPS), help="override experiment.steps (days)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override any config key by dotted name, e.g. --set behaviour.mu=0.3 (repeatable)")
    run.add_argument("--workers", type=_whole(1, default=" (leave it out for all cores)"), default=None,
                     help="parallel worker processes (default: all cores; 1 = serial in this process)")
    run.add_argument("--dask", action="store_true", help="run on a local dask.distributed cluster")
    run.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                     help="run on an existing dask.distributed cluster")
    run.add_argument("--rebuild-aggregates", action="store_true",
                     help="rebuild runs.parquet and timeseries.parquet from runs/ even if they hold finished runs "
                          "that runs/ lacks (by default they are then kept, with a note)")
    run.add_argument("--plot", action="store_true", help="write figures into the results folder when done")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    pred = sub.add_parser("predict", help="run a config once per posterior draw: predictive intervals",
                          description="Run CONFIG once per draw from a posterior (a seeded weighted resampling; "
                                      "each run its own seed) and write a results folder as 'sim run' does, with "
                                      "the drawn values as param:<key> columns of runs.parquet. 'sim results' "
                                      "prints medians and 50%/90% predictive intervals, 'sim plot' draws the "
                                      "bands with the observed data. Posterior keys apply by dotted key; a key the "
                                      "config lacks, or another episode's own, is skipped and listed.")
    pred.add_argument("config", help="experiment TOML file (its scenarios are predicted too)")
    pred.add_argument("--posterior", default=None,
                      help="posterior.parquet of a 'sim calibrate' (default experiments/calibration/posterior.parquet)")
    pred.add_argument("--draws", type=_whole(1, MAX_RUNS), default=100, help="posterior draws (100)")
    pred.add_argument("--out", help="results folder (default: results/<name>/<UTC time>-<config hash>)")
    pred.add_argument("--new", action="store_true", help="start a new folder even if one of this prediction exists")
    pred.add_argument("--seed", type=_whole(0), help="override the root seed experiment.seed (draws and runs)")
    pred.add_argument("--engine", choices=("mesa", "array"), help="override experiment.engine")
    pred.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="override a config key the posterior does not draw (repeatable)")
    pred.add_argument("--workers", type=_whole(1, default=" (leave it out for all cores)"), default=None,
                      help="parallel worker processes (default: all cores)")
    pred.add_argument("--dask", action="store_true", help="run on a local dask.distributed cluster")
    pred.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing dask.distributed cluster")
    pred.add_argument("--rebuild-aggregates", action="store_true", help="as for sim run")
    pred.add_argument("--plot", action="store_true", help="write figures into the results folder when done")
    pred.add_argument("--quiet", action="store_true", help="no progress bar")
    pred.set_defaults(func=cmd_predict)

    res = sub.add_parser("results", help="summary table of a results folder",
                         description="Mean and 95% CI of each outcome per scenario and sweep point, read from "
                                     "the saved files (a partial folder works).")
    res.add_argument("folder", help="a results folder written by 'sim run'")
    res.add_argument("--csv", action="store_true", help="print every outcome's mean and CI as CSV")
    res.set_defaults(func=cmd_results)

    plot = sub.add_parser("plot", help="figures from a results folder (never re-runs the model)",
                          description="Time series, scenario comparison, sweeps, composition and network "
                                      "snapshots, as fits the experiment, from the saved files only.")
    plot.add_argument("folder", help="a results folder written by 'sim run'")
    plot.add_argument("--out", help="folder for the figures (default: FOLDER/figures)")
    plot.add_argument("--format", default="png", help="comma-separated formats: png, svg, pdf (default png)")
    plot.set_defaults(func=cmd_plot)

    explore = sub.add_parser(
        "explore", help="policy exploration: scenarios x policies, then PRIM, feature scores, robustness (EMA)",
        description="Run the [explore] table of CONFIG: every sampled scenario of the uncertainties under every "
                    "policy of the levers, one run each, the policies of a scenario sharing its random numbers. The "
                    "runs go into a results folder as with 'sim run' (resumable; failed runs recorded); then the EMA "
                    "Workbench's PRIM (per predicate), feature scoring (per outcome) and the policies' robustness are "
                    "written into FOLDER/explore/. See docs/POLICY.md.")
    explore.add_argument("config", help="experiment TOML file with an [explore] table")
    explore.add_argument("--scenarios", type=_whole(1), default=None,
                         help="scenarios sampled (default: explore.scenarios of the config)")
    explore.add_argument("--policies", type=_whole(1), default=None,
                         help="policies: the reference and samples of the levers (default: explore.policies)")
    explore.add_argument("--out", help="results folder (default: results/<name>/<UTC time>-<config hash>; an "
                                       "existing folder of the same exploration is resumed)")
    explore.add_argument("--new", action="store_true", help="start a new folder even if one of this exploration "
                                                            "exists")
    explore.add_argument("--workers", type=_whole(1, default=" (leave it out for all cores)"), default=None,
                         help="parallel worker processes (default: all cores; 1 = serial in this process)")
    explore.add_argument("--dask", action="store_true", help="run on a local dask.distributed cluster")
    explore.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing dask.distributed cluster")
    explore.add_argument("--plot", action="store_true", help="write the exploration's figures into the folder")
    explore.add_argument("--quiet", action="store_true", help="no progress bar")
    explore.set_defaults(func=cmd_explore)

    viz = sub.add_parser("viz", help="serve the interactive browser page (SolaraViz)",
                         description="Serve the interactive model page; open the printed address in a browser.")
    viz.add_argument("config", nargs="?", help="scenario to load, at 1,000 users (default: the earliest episode "
                                               "in ./experiments)")
    viz.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    viz.add_argument("--port", type=_whole(1, 65535), default=8765, help="port (default 8765)")
    viz.set_defaults(func=cmd_viz)

    val = sub.add_parser("validate", help="validate against theory and every episode's data; write "
                                          "docs/VALIDATION.md",
                         description="Run the validation suite (Bass, Granovetter, Watts, and each episode's "
                                     "targets against its data) and write the report with its figures.")
    val.add_argument("configs", nargs="*", metavar="CONFIG",
                     help="episode configs to check (default: every config in ./experiments whose own file "
                          "declares [observed] targets)")
    val.add_argument("--quick", action="store_true", help="reduced versions (as in the tests)")
    val.add_argument("--out", help="report file, figures go beside it in figures/ (default docs/VALIDATION.md; "
                                   "with --quick results/validation-quick/VALIDATION.md, so that the full "
                                   "report is not overwritten); with --only an existing report is updated")
    val.add_argument("--only", action="append", metavar="CHECK",
                     help="run only this check (repeatable): bass, granovetter, watts, an episode's "
                          "experiment.name, calibration and leave_one_out (on the fits saved in "
                          "experiments/calibration/), coverage (synthetic fits), sensitivity (saved in "
                          "docs/calibration/)")
    val.set_defaults(func=cmd_validate)

    cal = sub.add_parser("calibrate", help="fit episodes jointly by ABC-SMC (pyabc): one posterior, model selection",
                         description="ABC-SMC (pyabc) of the priors the configs declare ([[calibration.priors]]: "
                                     "shared parameters common to all episodes, each episode's own ones apart) "
                                     "against every episode's fitted series and targets; ABC model selection "
                                     "between --models. Writes posterior.parquet, manifest.json, abc.db (pyabc's "
                                     "history) and figures/ into OUT (method: docs/VALIDATION.md, Calibration). "
                                     "--quick: a few minutes, to try it.")
    cal.add_argument("configs", nargs="+", metavar="EPISODE_CONFIG", help="episode configs to fit together")
    cal.add_argument("--out", help="folder for the posterior (default results/calibration/<UTC time>; never one "
                                   "that holds a posterior already)")
    cal.add_argument("--quick", action="store_true",
                     help="small fit: 1,500 users, 1 seed, 30 particles, 3 populations (options below win)")
    cal.add_argument("--leave-out", metavar="EPISODE", help="fit all but this episode (by its experiment.name)")
    cal.add_argument("--models", default=None,
                     help="model variants compared, comma-separated: contacts (the model as configured), "
                          "media_only, population, salience (default: all four)")
    cal.add_argument("--n", type=_whole(2), default=None, help="users per run (2,000)")
    cal.add_argument("--seeds", type=_whole(1), default=None, help="runs per parameter set, fresh seeds each (1)")
    cal.add_argument("--population", type=_whole(2), default=None, help="particles per population (400)")
    cal.add_argument("--generations", type=_whole(1), default=None, help="populations at most (8)")
    cal.add_argument("--max-minutes", type=float, default=None,
                     help="no new population after this many minutes of sampling (50)")
    cal.add_argument("--draws", type=_whole(1), default=40, help="posterior draws per predictive figure (40)")
    cal.add_argument("--workers", type=_whole(1), default=None, help="worker processes (default 1: reproducible)")
    cal.add_argument("--dask", action="store_true", help="sample on a local dask.distributed cluster")
    cal.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="sample on a running dask scheduler")
    cal.add_argument("--rng-seed", type=_whole(0), default=2014, help="root seed of the fit (2014)")
    cal.add_argument("--quiet", action="store_true", help="no progress from pyabc")
    cal.set_defaults(func=cmd_calibrate)

    sens = sub.add_parser("sensitivity", help="global sensitivity analysis (Morris, then Sobol') of the 2014 "
                                              "scenario",
                          description="Morris screening of the behavioural parameters, then Sobol' indices of "
                                      "the influential ones, for the peak rival share and the incumbent's "
                                      "loss (SALib; pip install -e '.[validate]'). Writes OUT/sensitivity.json "
                                      "and the figures into OUT/../figures.")
    sens.add_argument("config", help="scenario to analyse")
    sens.add_argument("--trajectories", type=_whole(1), default=10, help="Morris trajectories (10)")
    sens.add_argument("--sobol-n", type=_whole(0), default=256,
                      help="Sobol' base samples, a power of 2 (256; 0: Morris only)")
    sens.add_argument("--n", type=_whole(2), default=5000, help="users per run (5000)")
    sens.add_argument("--rng-seed", type=_whole(0), default=2014, help="root seed of the samples and the model (2014)")
    sens.add_argument("--out", default="docs/calibration",
                      help="folder for sensitivity.json (default docs/calibration)")
    sens.set_defaults(func=cmd_sensitivity)

    assets = sub.add_parser("assets", help="fill solara's browser-asset cache from the npm registry (offline)",
                            description="Fetch the page's JavaScript assets from the npm registry into "
                                        "solara's CDN cache, for machines that cannot reach the CDN.")
    assets.set_defaults(func=cmd_assets)
    return parser


class TerminatedError(BaseException):
    """SIGTERM arrived (what ``timeout`` and job schedulers send): stop like Ctrl-C (a ``BaseException``, as
    ``KeyboardInterrupt``, so that no ``except Exception`` records it as a failed run)."""


def _terminate(signum: int, frame: object) -> None:
    raise TerminatedError


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sim`` console script. A bad input gets one line on stderr and exit status 2; with
    ``--debug`` its traceback too. SIGTERM stops like Ctrl-C (exit status 143)."""
    from sim.errors import ResultsError

    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # named by the subcommand that was given them, with its own help
        command = parser.commands.get(getattr(args, "command", None), parser)
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.argv = ["sim", *(sys.argv[1:] if argv is None else argv)]  # the command as given, for manifests
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except (ConfigError, ResultsError) as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if args.debug or exc.filename is None:  # an OS error about no file is not the user's input
            raise
        print(f"error: {exc.filename}: {exc.strerror}", file=sys.stderr)  # e.g. a full disk, a read-only file
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished runs are saved, run the same command again to resume", file=sys.stderr)
        return 130
    except TerminatedError:
        print("terminated (SIGTERM); finished runs are saved, run the same command again to resume",
              file=sys.stderr)
        return 143
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
