"""Every user's number of contacts with each of a few binary flags, packed in bit fields and kept up to date
by compiled loops (the array engine's neighbour counts; docs/PERFORMANCE.md).

A user's flags (fresh news; active on platform k) form a small integer code. Each count is a field of
``width`` bits (enough for the largest degree) in a uint64 word, so one pass over the graph counts every
flag: a lookup table turns a contact's code into the word of ones it adds to each field, and a user's word
is the sum of its contacts' words. Fields never carry into each other because no count exceeds the degree.
When few users' codes changed since the last count, only their contacts' words are updated: adding the
difference of two words modulo 2^64 is exact, whatever the signs of the fields' changes.

A full count walks every edge with a random gather per entry (latency-bound: both cores help); an update
walks only the changed users' edges. A complete graph is kept implicit: a user's word is the total of all
words minus its own.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import prange

from sim.jit import jit, set_threads

__all__ = ["INCREMENTAL_MAX_SHARE", "ContactCounts", "Contacts", "contact_count", "row_blocks"]

#: Above this share of all entries touched by the users whose codes changed, a full count is cheaper than
#: updating their contacts' words one entry at a time (measured at 10^6 users: a full count 7-8 ms on two
#: threads, an update 9-13 ns an entry on the 2014 run's news days).
INCREMENTAL_MAX_SHARE = 0.06
#: Directed entries per block of a parallel full count.
COUNT_BLOCK_ENTRIES = 1 << 18
#: Entries per chunk of a full count's running totals (:func:`_count_rows`).
RUN_ENTRIES = 1 << 12


class Contacts(NamedTuple):
    """The packed counts as the compiled loops read them: user i's count of flag f is the field at bit
    ``shift[f]`` of ``words[word[f], i]``, ``mask`` wide."""

    words: np.ndarray   # (n_words, n) uint64
    word: np.ndarray    # (n_flags,) int64: the word of each flag
    shift: np.ndarray   # (n_flags,) uint64: the first bit of each flag's field
    mask: np.uint64     # ones in the field's width
    degree: np.ndarray  # (n,) int32


def contact_count(contacts, i, flag):
    """User i's number of contacts with ``flag`` set."""
    return (contacts.words[contacts.word[flag], i] >> contacts.shift[flag]) & contacts.mask


def row_blocks(indptr: np.ndarray, max_entries: int) -> np.ndarray:
    """Boundaries of consecutive row ranges of at most ``max_entries`` entries (a larger row alone)."""
    n = len(indptr) - 1
    bounds = [0]
    while bounds[-1] < n:
        lo = bounds[-1]
        hi = int(np.searchsorted(indptr, indptr[lo] + max_entries, side="right")) - 1
        bounds.append(min(max(hi, lo + 1), n))
    return np.array(bounds, dtype=np.int64)


def _count_rows(lo, hi, indptr, indices, codes, lut, words):
    """Every word of users ``lo .. hi-1``: the sum of its contacts' words (``lut`` of their codes).

    The sums run over the entries in chunks of :data:`RUN_ENTRIES`, keeping each running total; a row's sum
    is the difference of the running totals at its two ends (modulo 2^64, exact). So the loop over entries
    has no exit at each row's end: rows hold a dozen entries, and a mispredicted exit per row cost more than
    the row's gathers (measured: half the time of a loop per row)."""
    runs = np.empty(RUN_ENTRIES + 1, dtype=np.uint64)
    first, last = indptr[lo], indptr[hi]
    for w in range(words.shape[0]):
        i, total, start = lo, np.uint64(0), np.uint64(0)  # start: the running total where row i starts
        for base in range(first, last, RUN_ENTRIES):
            top = min(last, base + RUN_ENTRIES)
            runs[0] = total
            for e in range(np.uint64(base), np.uint64(top)):  # unsigned indices: sim/jit.py says why
                total += lut[w, codes[np.uint32(indices[e])]]
                runs[e - np.uint64(base) + np.uint64(1)] = total
            while i < hi and indptr[i + 1] <= top:  # the rows that end in this chunk
                end = runs[indptr[i + 1] - base]
                words[w, i] = end - start
                start = end
                i += 1
        while i < hi:  # no entries at all
            words[w, i] = 0
            i += 1


def _count_blocks(bounds, indptr, indices, codes, lut, words):
    for j in prange(len(bounds) - 1):
        _count_rows(bounds[j], bounds[j + 1], indptr, indices, codes, lut, words)


def _count_complete(codes, lut, words):
    for w in range(words.shape[0]):
        total = np.uint64(0)
        for i in range(len(codes)):
            total += lut[w, codes[i]]
        for i in range(len(codes)):
            words[w, i] = total - lut[w, codes[i]]


def _tally_changes(lo, hi, old, new, degree, tallies, j):
    """Into ``tallies[j]``: how many of users ``lo .. hi-1`` changed code, and how many entries their rows
    hold."""
    n_changed, entries = 0, 0
    for i in range(np.uint64(lo), np.uint64(hi)):  # unsigned: sim/jit.py says why
        if new[i] != old[i]:
            n_changed += 1
            entries += degree[i]
    tallies[j, 0], tallies[j, 1] = n_changed, entries


def _list_changes(lo, hi, old, new, users, at):
    """The changed users of ``lo .. hi-1`` into ``users`` from position ``at`` on."""
    for i in range(np.uint64(lo), np.uint64(hi)):  # unsigned: sim/jit.py says why
        if new[i] != old[i]:
            users[at] = i
            at += 1


def _tally_all_changes(bounds, old, new, degree, tallies):
    for j in prange(len(bounds) - 1):
        _tally_changes(bounds[j], bounds[j + 1], old, new, degree, tallies, j)


def _list_all_changes(bounds, old, new, starts, users):
    for j in prange(len(bounds) - 1):
        _list_changes(bounds[j], bounds[j + 1], old, new, users, starts[j])


def _add_changes(users, old, new, indptr, indices, lut, words, lo, hi):
    """Add to the contacts of ``users`` in rows ``lo .. hi-1`` the difference the users' new codes make."""
    for j in users:
        for w in range(words.shape[0]):
            delta = lut[w, new[j]] - lut[w, old[j]]  # modulo 2^64
            for e in range(np.uint64(indptr[j]), np.uint64(indptr[j + 1])):  # unsigned: sim/jit.py says why
                c = np.uint32(indices[e])
                if lo <= c < hi:
                    words[w, c] += delta


def _add_all_changes(parts, users, old, new, indptr, indices, lut, words):
    """:func:`_add_changes` with each thread updating the contacts in one part of the users (no two threads
    write the same word)."""
    for j in prange(len(parts) - 1):
        _add_changes(users, old, new, indptr, indices, lut, words, parts[j], parts[j + 1])


_count_rows = jit(_count_rows, allocates=True)
_count_blocks = jit(_count_blocks, parallel=True, allocates=True)
_count_complete = jit(_count_complete)
_tally_changes = jit(_tally_changes)
_list_changes = jit(_list_changes)
_tally_all_changes = jit(_tally_all_changes, parallel=True)
_list_all_changes = jit(_list_all_changes, parallel=True)
_add_changes = jit(_add_changes)
_add_all_changes = jit(_add_all_changes, parallel=True)
contact_count = jit(contact_count, inline=True)


class ContactCounts:
    """For each user of a graph (CSR ``indptr``, ``indices``; or ``complete`` with ``n`` users), how many of
    its contacts have each of ``n_flags`` flags. :meth:`update` takes the users' codes (bit f = flag f);
    :attr:`contacts` is what the compiled loops read. ``threads`` > 1 runs full counts on that many threads.
    """

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, n_flags: int, complete: bool = False,
                 n: int | None = None, threads: int = 1) -> None:
        if not 1 <= n_flags <= 16:
            raise ValueError(f"ContactCounts handles 1 to 16 flags, got {n_flags}")
        self.indptr, self.indices, self.complete = indptr, indices, complete
        self.n = n if complete and n is not None else len(indptr) - 1
        degree = (np.full(self.n, self.n - 1, dtype=np.int32) if complete else
                  np.diff(indptr).astype(np.int32))
        max_degree = int(degree.max()) if self.n else 0
        width = max(1, max_degree.bit_length())
        per_word = 64 // width
        n_words = math.ceil(n_flags / per_word)
        self.code_dtype = np.uint8 if n_flags <= 8 else np.uint16
        codes = np.arange(2**n_flags)
        self.lut = np.zeros((n_words, 2**n_flags), dtype=np.uint64)
        for flag in range(n_flags):
            word, field = divmod(flag, per_word)
            self.lut[word] += ((codes >> flag) & 1).astype(np.uint64) << np.uint64(field * width)
        flags = np.arange(n_flags)
        self.contacts = Contacts(words=np.zeros((n_words, self.n), dtype=np.uint64), word=flags // per_word,
                                 shift=((flags % per_word) * width).astype(np.uint64),
                                 mask=np.uint64((1 << width) - 1), degree=degree)
        self.codes: np.ndarray | None = None
        self.threads = threads
        self._bounds = None if complete else row_blocks(indptr, COUNT_BLOCK_ENTRIES)
        self._user_blocks = np.append(np.arange(0, self.n, 1 << 16, dtype=np.int64), np.int64(self.n))

    @property
    def degree(self) -> np.ndarray:
        return self.contacts.degree

    def encode(self, flags: list[np.ndarray]) -> np.ndarray:
        """Codes from flags given as bool arrays over users (bit f set where ``flags[f]`` is)."""
        code = np.zeros(self.n, dtype=self.code_dtype)
        for f, column in enumerate(flags):
            code |= column.astype(self.code_dtype) << self.code_dtype(f)
        return code

    def update(self, codes: np.ndarray) -> None:
        """Count, for every user, the contacts with each flag set in ``codes`` (the array is kept: do not
        change it afterwards; pass a new one next time)."""
        if self.complete:
            _count_complete(codes, self.lut, self.contacts.words)
        elif self.codes is None:
            self._count_all(codes)
        else:
            tallies = self._tally(codes)
            if tallies[:, 1].sum() > INCREMENTAL_MAX_SHARE * len(self.indices):
                self._count_all(codes)
            else:
                self._add(codes, self._changed_users(codes, tallies))
        self.codes = codes

    def _add(self, codes: np.ndarray, users: np.ndarray) -> None:
        """Update the contacts of ``users`` (those whose code changed) for the change to ``codes``."""
        words = self.contacts.words
        if self.threads > 1:
            set_threads(self.threads)
            parts = np.linspace(0, self.n, self.threads + 1).astype(np.int64)
            _add_all_changes(parts, users, self.codes, codes, self.indptr, self.indices, self.lut, words)
        else:
            _add_changes(users, self.codes, codes, self.indptr, self.indices, self.lut, words, 0, self.n)

    def _tally(self, codes: np.ndarray) -> np.ndarray:
        """Per block of users (one block on one thread): how many users' codes differ from the last update's,
        and how many entries their rows hold (int64, blocks x 2)."""
        if self.threads > 1:
            set_threads(self.threads)
            tallies = np.empty((len(self._user_blocks) - 1, 2), dtype=np.int64)
            _tally_all_changes(self._user_blocks, self.codes, codes, self.degree, tallies)
            return tallies
        tallies = np.empty((1, 2), dtype=np.int64)
        _tally_changes(0, self.n, self.codes, codes, self.degree, tallies, 0)
        return tallies

    def _changed_users(self, codes: np.ndarray, tallies: np.ndarray) -> np.ndarray:
        """The users whose code differs from the last update's (int64, ascending), from :meth:`_tally`'s
        ``tallies``."""
        starts = np.zeros(len(tallies) + 1, dtype=np.int64)
        np.cumsum(tallies[:, 0], out=starts[1:])
        users = np.empty(starts[-1], dtype=np.int64)
        if self.threads > 1:
            set_threads(self.threads)
            _list_all_changes(self._user_blocks, self.codes, codes, starts[:-1], users)
        else:
            _list_changes(0, self.n, self.codes, codes, users, 0)
        return users

    def _count_all(self, codes: np.ndarray) -> None:
        if self.threads > 1:
            set_threads(self.threads)
            _count_blocks(self._bounds, self.indptr, self.indices, codes, self.lut, self.contacts.words)
        else:
            _count_rows(0, self.n, self.indptr, self.indices, codes, self.lut, self.contacts.words)

    def count(self, flag: int) -> np.ndarray:
        """Every user's number of contacts with ``flag`` set, as of the last update (int32)."""
        c = self.contacts
        return ((c.words[c.word[flag]] >> c.shift[flag]) & c.mask).astype(np.int32)
