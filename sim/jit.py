"""Compiling the per-user kernels with numba, and where the compiled code is cached.

The kernels are plain Python functions, compiled by :func:`jit` where their module defines them::

    def forget(r, rest, delta):
        ...
    forget = jit(forget)

rather than decorated: mutation testing (mutmut) skips decorated functions, and ``NUMBA_DISABLE_JIT=1`` runs
the very same functions as Python (for debugging and mutation testing). Every kernel is compiled lazily, at
its first call, and cached on disk.

**Unsigned indices in the hot loops.** numba indexes with a signed integer as Python does: a negative index
counts from the end, so every access checks the sign. In a loop ``for i in range(lo, hi)`` the compiler
cannot rule out a negative ``i``, and the check on each access keeps LLVM from vectorizing the loop. The
loops over users and entries therefore run over ``range(np.uint64(lo), np.uint64(hi))`` and gather with
``np.uint32`` indices (measured at 10^6 users: encoding the codes 0.56 -> 0.09 ms, finding the changed users
0.75 -> 0.25 ms, a full count 7.1 -> 5.9 ms, all on two threads). Only indexing uses them: in numba, an
unsigned 64-bit integer mixed with a signed one in arithmetic gives a float.

**The cache** lives in the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``, or ``$NUMBA_CACHE_DIR``
if set) under ``cyber-exile/numba/<digest>``, so that read-only installs and parallel worker processes share
one writable cache. The digest covers the source of every kernel module (:data:`KERNEL_MODULES`): numba
checks only the timestamp of the file that defines a function before reusing its cached code, not of the
files whose kernels it inlines, so an edit to one kernel module could otherwise leave a stale copy of it
inside another module's cached code. A new digest means a new, empty cache folder.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numba
import numba.core.config

__all__ = ["KERNEL_MODULES", "cache_dir", "jit", "set_threads", "source_digest"]

#: Modules of the ``sim`` package that define compiled kernels (a test checks that the list is complete).
KERNEL_MODULES = ("rules.py", "loops.py", "counts.py", "metrics.py", "largegraph.py", "blockmodel.py")


def source_digest(package: Any = None) -> str:
    """A digest of numba's version and the kernel modules' source (``package``: where they are, default
    this package)."""
    package = package or resources.files("sim")
    h = hashlib.sha256(numba.__version__.encode())
    for name in KERNEL_MODULES:
        h.update(name.encode())
        h.update(package.joinpath(name).read_bytes())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    """The folder of this source version's compiled kernels (see the module docstring)."""
    base = os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cyber-exile" / "numba" / source_digest()


_CACHE_DIR = str(cache_dir())
# numba's OpenMP threads otherwise spin for a while after each parallel loop, taking the cores from the
# phases that follow (measured: the day's random draws took twice as long). A user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")


def jit(fn: Callable[..., Any], parallel: bool = False, inline: bool = False,
        allocates: bool = False) -> Callable[..., Any]:
    """``fn`` compiled in nopython mode and cached on disk.

    - ``parallel``: its ``prange`` loops use threads.
    - ``inline``: inlined into the compiled functions that call it (small rules called once per user).
    - ``allocates``: it creates arrays, so it needs numba's reference-counting runtime (NRT). Kernels that
      only read and write arrays given to them are compiled without it: the atomic reference counts of the
      array views a per-user loop makes cost more than the rules' arithmetic (measured: 93 against 24 ns
      per user and day), and calls from Python pass their arrays cheaper.

    Never compile one Python function twice with different options: numba's cache would give both the same
    entry. A loop that must run serially and in parallel is written once for a block of users and called
    from a small parallel driver (see :mod:`sim.loops`).
    """
    # numba picks a function's cache folder when the dispatcher is made: set ours for that moment only, so
    # other libraries' kernels in the same process keep their own.
    previous = numba.core.config.CACHE_DIR
    numba.core.config.CACHE_DIR = _CACHE_DIR
    try:
        return numba.njit(cache=True, parallel=parallel, inline="always" if inline else "never",
                          _nrt=allocates)(fn)
    finally:
        numba.core.config.CACHE_DIR = previous


def set_threads(threads: int) -> None:
    """Threads for the next parallel kernel calls from this thread (at most numba's configured number)."""
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
