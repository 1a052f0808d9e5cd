"""Social graphs read from files (network kind ``file``), strictly: a file that does not say what it seems to
is refused with its line, never read as something else.

Formats by suffix: ``.graphml``, ``.gml``, anything else an edge list (``.csv``: comma-separated, else
whitespace-separated): one contact per line, two user labels and optionally a numeric weight (ignored);
``#`` starts a comment. An edge listed twice, in either direction, is one contact; a user listed as its own
contact is refused. Users are numbered in the order the file first names them. Directed graphs
(GraphML, GML) are read as undirected: a tie either way is a contact.
"""

from __future__ import annotations

import functools
from pathlib import Path

import networkx as nx

from sim.config.schema import ConfigError

__all__ = ["read_graph", "users_in"]


def read_graph(path: Path, where: str) -> nx.Graph:
    """The undirected graph in ``path``, nodes relabelled 0 .. n-1 in file order. ``where`` is the config
    key that names the file, for errors (e.g. "key 'network.file' in experiments/x.toml")."""
    return _read(str(path), _stamp(path, where), where).copy()


def users_in(path: Path, where: str) -> int:
    """The number of users (nodes) of the graph in ``path`` (read once per file version)."""
    return _read(str(path), _stamp(path, where), where).number_of_nodes()


def _stamp(path: Path, where: str) -> tuple[int, int]:
    if path.is_dir():
        raise ConfigError(f"{where}: {path} is a directory, expected a graph file")
    if not path.is_file():
        raise ConfigError(f"{where}: graph file not found: {path}")
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=8)
def _read(path_text: str, stamp: tuple[int, int], where: str) -> nx.Graph:
    path = Path(path_text)
    suffix = path.suffix.lower()
    try:
        if suffix in (".graphml", ".gml"):
            g = nx.read_graphml(path) if suffix == ".graphml" else nx.read_gml(path, label=None)
            g = nx.Graph(g)
            loops = list(nx.selfloop_edges(g))
            if loops:
                raise ConfigError(f"{where}: {path} links user {loops[0][0]!r} to itself; remove self-loops")
        else:
            g = _read_edge_list(path, "," if suffix == ".csv" else None, where)
    except ConfigError:
        raise
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: {path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
                          f"{exc.start}); expected an edge list, GraphML or GML") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None
    except Exception as exc:  # networkx raises many kinds for malformed GraphML/GML
        raise ConfigError(f"{where}: cannot read {path} as {suffix.lstrip('.')}: {exc}") from None
    if g.number_of_nodes() < 2:
        raise ConfigError(f"{where}: {path} has {g.number_of_nodes()} users; a network needs at least 2 users "
                          "and one contact")
    return nx.convert_node_labels_to_integers(g, ordering="default")


def _read_edge_list(path: Path, delimiter: str | None, where: str) -> nx.Graph:
    g = nx.Graph()
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            tokens = [t.strip() for t in text.split(delimiter)]
            if len(tokens) not in (2, 3) or not all(tokens[:2]) or (len(tokens) == 3 and not _number(tokens[2])):
                raise ConfigError(f"{where}: {path} line {number}: expected two user labels and optionally a "
                                  f"numeric weight, got {text!r}")
            u, v = tokens[:2]
            if u == v:
                raise ConfigError(f"{where}: {path} line {number}: user {u!r} is linked to itself")
            g.add_edge(u, v)
    return g


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
