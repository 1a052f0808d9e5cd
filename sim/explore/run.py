"""Running an exploration's experiment into a results folder: the experiment layer's store, executors and
progress, as ``sim run`` uses them (:func:`sim.cli.cmd_run`), so that an exploration resumes after a kill,
records failed runs, and gives the same numbers serially, on a process pool and on dask."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sim.experiment import Experiment, RunSpec, iter_results, make_executor

__all__ = ["executed"]


@contextmanager
def executed(exp: Experiment, specs: list[RunSpec], out: Path | None, new: bool, as_given: dict[str, Any],
             workers: int | None = None, dask: bool = False, scheduler: str | None = None, quiet: bool = False,
             note: Callable[[str], None] = print) -> Iterator[tuple[Path, dict[str, int]]]:
    """Run the ``specs`` of ``exp`` not yet finished in its results folder (``out``, else the newest folder of
    this config, else a new one; ``new``: a new one) and consolidate it; then give the folder and the counts of
    runs scheduled, done and failed, still holding the folder's lock (so that what the caller writes there,
    the analysis, has one writer too). ``note`` is told what a resume finds and fixes."""
    from tqdm import tqdm

    from sim import footprint
    from sim.progress import RunBars
    from sim.store import ResultsStore

    at_once = 1 if scheduler else min(len(specs), workers or os.cpu_count() or 1)
    footprint.require(max((s.scenario for s in specs), key=lambda sc: footprint.estimate(sc).bytes),
                      at_once=at_once, where=exp.path)
    store, resumed = ResultsStore.open(exp, specs, out, new, as_given, note)
    with store:
        finished = store.verify(specs, note)
        todo = [s for s in specs if s.run_id not in finished]
        print(f"{'resuming' if resumed else 'writing'} {store.root}: {len(specs)} runs ({len(finished)} already "
              f"done, {len(todo)} to run)", file=sys.stderr)
        if todo:
            executor, resources = make_executor(1 if len(todo) == 1 and not (dask or scheduler) else workers,
                                                dask, scheduler)
            bars = None if quiet else RunBars()
            failed = 0
            try:
                with (tqdm(total=len(specs), initial=len(finished), disable=quiet, unit="run", desc=exp.name,
                           file=sys.stderr, position=0) as bar,
                      closing(iter_results(executor, todo, bars)) as results):
                    for result in results:
                        store.write(result)
                        failed += result.status == "failed"
                        bar.set_postfix(failed=failed)
                        bar.update()
            finally:
                if bars is not None:
                    bars.close()
                # dask's ClientExecutor takes no cancel_futures; a stopped iter_results has cancelled its runs
                executor.shutdown(wait=True, **({} if dask or scheduler else {"cancel_futures": True}))
                for resource in resources:
                    resource.close()
        yield store.root, store.finish(len(specs), False, note)
