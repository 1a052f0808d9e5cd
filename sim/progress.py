"""Progress of the runs in flight: each run reports its stages (graph build, then days) to a display.

A run reports through a plain callable, :data:`Report`. In the process that shows the display the callable
is the display itself (:class:`RunBars`); a run in a worker process gets a :class:`QueueReport`, which puts
the messages on a queue that the main process drains (:func:`sim.experiment.iter_results`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["QueueReport", "RunBars", "RunProgress"]


@dataclass(frozen=True)
class RunProgress:
    """A run's stage: ``"graph"`` (building its network) or ``"days"`` (``done`` of ``total`` simulated),
    or ``"end"`` (finished, whatever the outcome)."""

    run_id: str
    stage: str
    done: int = 0
    total: int = 0


#: Where a run sends its progress.
Report = Callable[[RunProgress], None]


class QueueReport:
    """A :data:`Report` for a worker process: puts messages on a (manager) queue, at most one ``days``
    message every ``interval`` seconds besides the stage changes. Picklable with its queue proxy."""

    def __init__(self, queue: Any, interval: float = 0.5) -> None:
        self.queue = queue
        self.interval = interval
        self._last = 0.0

    def __call__(self, message: RunProgress) -> None:
        now = time.monotonic()
        if message.stage == "days" and 0 < message.done < message.total and now - self._last < self.interval:
            return
        self._last = now
        self.queue.put(message)


class RunBars:
    """The display of runs in flight: one tqdm bar per run below the experiment's own run counter, shown only
    for a run that lasts more than ``delay`` seconds (a sweep of short runs shows just the counter). A run's
    bar says "building the network", then counts its days with a rate and an ETA."""

    def __init__(self, delay: float = 2.0, first_line: int = 1) -> None:
        self.delay = delay
        self.first_line = first_line
        self._bars: dict[str, tuple[Any, int, float]] = {}  # run id -> (bar, its line, when it started)

    def __call__(self, message: RunProgress) -> None:
        run = message.run_id
        if message.stage == "end":
            if run in self._bars:
                self._bars.pop(run)[0].close()
            return
        if run not in self._bars:
            taken = {line for _, line, _ in self._bars.values()}
            line = next(p for p in range(self.first_line, self.first_line + len(taken) + 1) if p not in taken)
            self._bars[run] = (self._bar(f"{run}: building the network", None, line, self.delay), line,
                               time.monotonic())
        bar, line, started = self._bars[run]
        if message.stage == "days":
            if bar.total != message.total:  # the network is built: a bar of days, shown when the run is
                bar.close()                 # delay seconds old
                remaining = max(0.0, self.delay - (time.monotonic() - started))
                bar = self._bar(f"{run}: days", message.total, line, remaining)
                self._bars[run] = (bar, line, started)
            bar.update(message.done - bar.n)

    @staticmethod
    def _bar(desc: str, total: int | None, line: int, delay: float) -> Any:
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, position=line, leave=False, delay=delay, file=sys.stderr,
                    unit="day", dynamic_ncols=True)

    def close(self) -> None:
        for bar, _, _ in self._bars.values():
            bar.close()
        self._bars.clear()
