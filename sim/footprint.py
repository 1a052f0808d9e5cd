"""How much memory a run needs, estimated from the model's measured footprint (docs/PERFORMANCE.md,
"Memory"), so that a run that cannot fit is refused before it starts instead of failing, or swapping, hours
in.

The estimate is a peak in bytes: a part per user plus a part per contact entry (each undirected contact is
two entries), for the engine and the graph builder the scenario uses. The constants are the measured peaks
rounded up; an estimate is meant to be within a factor of about 1.5 of the truth, which is what refusing
"cannot fit" needs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sim.config import ConfigError, Scenario

__all__ = ["Estimate", "available_bytes", "estimate", "require"]

#: (bytes per user, bytes per contact entry) at the peak of a run, by how the run is built.
FOOTPRINT = {
    "mesa": (1_200, 500),             # agents, networkx graph, Mesa's Network cells, contact lists
    "array, networkx graph": (400, 350),   # networkx graph while it is built, then the arrays
    "array, compiled graph": (120, 14),    # CSR build peak (edge list, stubs, CSR) then the arrays
    "array, implicit complete graph": (150, 0),
}
#: Kinds whose graph the array engine builds with compiled code at any size (others above LARGE, below).
COMPILED_KINDS = ("chung_lu", "sbm")
LARGE = 500_000


@dataclass(frozen=True)
class Estimate:
    """A run's estimated peak memory and what it was estimated from."""

    bytes: int
    users: int
    entries: int
    how: str

    def describe(self) -> str:
        return (f"about {self.bytes / 1e9:.1f} GB ({self.users:,} users, ~{self.entries // 2:,} contacts, "
                f"{self.how})")


def estimate(scenario: Scenario, engine: str | None = None) -> Estimate:
    """The peak memory of one run of ``scenario`` on ``engine`` (default: the scenario's)."""
    engine = engine or scenario.experiment.engine
    n, net = scenario.population.n, scenario.network
    entries = int(n * (n - 1)) if net.kind == "complete" else int(n * net.mean_degree)
    if engine == "mesa":
        how = "mesa"
    elif net.kind == "complete" and n > 2000:
        how, entries = "array, implicit complete graph", 0
    elif net.kind in COMPILED_KINDS or (net.kind in ("erdos_renyi", "watts_strogatz") and n > LARGE):
        how = "array, compiled graph"
    else:
        how = "array, networkx graph"
    per_user, per_entry = FOOTPRINT[how]
    return Estimate(bytes=n * per_user + entries * per_entry, users=n, entries=entries, how=how)


def available_bytes() -> int:
    """Memory available to new work: ``MemAvailable`` of /proc/meminfo, else the free physical pages."""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def require(scenario: Scenario, engine: str | None = None, at_once: int = 1, where: str = "") -> Estimate:
    """Refuse (ConfigError) a run, or ``at_once`` runs side by side, that would not fit in the available
    memory; return the estimate of one run."""
    one = estimate(scenario, engine)
    have = available_bytes()
    if one.bytes > have:
        raise ConfigError(f"{where or scenario.source}: a run needs {one.describe()}, {have / 1e9:.1f} GB of "
                          "memory available; use a smaller population.n or a machine with more memory")
    if one.bytes * at_once > have:
        fits = max(1, have // one.bytes)
        raise ConfigError(f"{where or scenario.source}: {at_once} runs at once need {one.describe()} each, "
                          f"{have / 1e9:.1f} GB of memory available; use --workers {fits}")
    return one
