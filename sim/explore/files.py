"""An exploration's analysis as saved in its results folder, and read back for figures.

``<results folder>/explore/``:

- ``runs.parquet``: one row per finished run: ``run_id``, ``point``, ``scenario`` (its number), ``policy``
  (its name), the inputs (uncertainties, posterior keys, levers; a day lever's "never" as the day after the
  run's last), the outcomes and the predicates (true or false);
- ``analysis.json``: what was asked (inputs, outcomes, predicates), PRIM's peeling trajectory and chosen box
  with its limits and quasi-p-values per predicate, the feature scores, the policies' robustness, the counts
  of runs, and the SHA-256 of ``runs.parquet``. It is written last, so a folder whose ``analysis.json`` reads
  and matches holds a whole analysis.

Both are derived from the runs and written again by every ``sim explore`` of the folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ResultsError

__all__ = ["ANALYSIS", "FOLDER", "METHOD", "RUNS", "BoxLimit", "Exploration", "PrimResult", "load", "save"]

#: The sweep method of an exploration's experiment, by which its results folder is known (its manifest's
#: ``sweep.method``).
METHOD = "explore"
FOLDER = "explore"
RUNS = "runs.parquet"
ANALYSIS = "analysis.json"
#: Version of the layout of analysis.json.
FORMAT = 1


@dataclass(frozen=True)
class BoxLimit:
    """One restricted input of a PRIM box: its range in the box (``low``..``high``, or the ``levels`` it keeps
    of ``all_levels``) against its range over all runs, and the quasi-p-value of each restricted side (NaN
    for a side left open)."""

    input: str
    low: float
    high: float
    full_low: float
    full_high: float
    qp_low: float
    qp_high: float
    levels: tuple[Any, ...] = ()
    all_levels: tuple[Any, ...] = ()


@dataclass(frozen=True)
class PrimResult:
    """PRIM's answer for one predicate: the peeling trajectory (one row per box: ``coverage``, ``density``,
    ``mass``, ``res_dim``, ``n`` runs and ``k`` cases of interest), the chosen box's number and limits, or why
    PRIM was not run (``skipped``)."""

    predicate: str
    text: str
    cases: int
    runs: int
    trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)
    chosen: int = -1
    limits: tuple[BoxLimit, ...] = ()
    skipped: str = ""

    @property
    def box(self) -> pd.Series:
        """The chosen box's row of the trajectory."""
        return self.trajectory.iloc[self.chosen]


@dataclass(frozen=True)
class Exploration:
    """An exploration's runs and analysis: the run table, the inputs (``uncertainties`` then ``levers``), the
    outcomes (name -> expression, kind, goal), the predicates (name -> text), the code of "never" per day
    lever, PRIM per predicate, the feature scores (inputs x outcomes and predicates), the robustness of each
    policy, and counts and settings."""

    runs: pd.DataFrame
    uncertainties: tuple[str, ...]
    levers: tuple[str, ...]
    outcomes: dict[str, dict[str, str]]
    predicates: dict[str, str]
    never: dict[str, int]
    prim: dict[str, PrimResult]
    scores: pd.DataFrame
    robustness: pd.DataFrame
    counts: dict[str, int]
    settings: dict[str, Any]

    @property
    def inputs(self) -> list[str]:
        return [*self.uncertainties, *self.levers]


def _number(x: Any) -> Any:
    """A float for JSON: None for NaN (JSON has none)."""
    return None if isinstance(x, float) and math.isnan(x) else x


def _float(x: Any) -> float:
    return math.nan if x is None else float(x)


def _frame_json(frame: pd.DataFrame) -> dict[str, Any]:
    return {"index": [str(i) for i in frame.index], "columns": [str(c) for c in frame.columns],
            "data": [[_number(v.item() if hasattr(v, "item") else v) for v in row] for row in frame.itertuples(False)]}


def _frame(data: dict[str, Any], index_name: str) -> pd.DataFrame:
    rows = [[math.nan if v is None else v for v in row] for row in data["data"]]
    return pd.DataFrame(rows, index=pd.Index(data["index"], name=index_name), columns=data["columns"])


def _prim_json(p: PrimResult) -> dict[str, Any]:
    out: dict[str, Any] = {"predicate": p.predicate, "text": p.text, "cases": p.cases, "runs": p.runs,
                           "skipped": p.skipped}
    if not p.skipped:
        out |= {"chosen": p.chosen, "trajectory": _frame_json(p.trajectory),
                "limits": [{k: (list(v) if isinstance(v, tuple) else _number(v)) for k, v in vars(b).items()}
                           for b in p.limits]}
    return out


def _prim(data: dict[str, Any]) -> PrimResult:
    if data["skipped"]:
        return PrimResult(data["predicate"], data["text"], data["cases"], data["runs"], skipped=data["skipped"])
    limits = tuple(BoxLimit(**{k: (tuple(v) if isinstance(v, list) else _float(v)) if k != "input" else v
                               for k, v in b.items()}) for b in data["limits"])
    trajectory = _frame(data["trajectory"], "box").reset_index(drop=True)
    return PrimResult(data["predicate"], data["text"], data["cases"], data["runs"], trajectory, data["chosen"],
                      limits)


def _write(path: Path, data: bytes) -> None:
    """Write ``path`` whole: a temporary file beside it, renamed into place."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def save(root: str | Path, exploration: Exploration) -> Path:
    """Write ``explore/runs.parquet`` and then ``explore/analysis.json`` into results folder ``root``; returns
    the folder written."""
    folder = Path(root) / FOLDER
    folder.mkdir(exist_ok=True)
    buffer = io.BytesIO()
    exploration.runs.to_parquet(buffer, index=False)
    runs = buffer.getvalue()
    _write(folder / RUNS, runs)
    e = exploration
    doc = {"format": FORMAT, "uncertainties": list(e.uncertainties), "levers": list(e.levers),
           "outcomes": e.outcomes, "predicates": e.predicates, "never": e.never,
           "prim": {name: _prim_json(p) for name, p in e.prim.items()},
           "feature_scores": _frame_json(e.scores), "robustness": _frame_json(e.robustness),
           "counts": e.counts, "settings": e.settings, "runs_sha256": hashlib.sha256(runs).hexdigest()}
    _write(folder / ANALYSIS, (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode("utf-8"))
    return folder


def _read_runs(data: bytes) -> pd.DataFrame:
    """The run table from its verified bytes. Single-threaded: pyarrow 26's thread pool, used on this table,
    aborted the interpreter at exit in about one process in seven ("terminate called without an active
    exception"), which turned a finished ``sim plot`` into exit status 134."""
    return pd.read_parquet(io.BytesIO(data), use_threads=False)


def load(root: str | Path) -> Exploration:
    """Read an exploration's analysis from results folder ``root``, verifying ``runs.parquet`` against the
    checksum in ``analysis.json``. ResultsError, naming the file and how to recover, if either is missing or
    damaged."""
    folder = Path(root) / FOLDER
    again = f"run 'sim explore CONFIG --out {root}' again: it analyses the finished runs anew"
    try:
        doc = json.loads((folder / ANALYSIS).read_text(encoding="utf-8"))
        data = (folder / RUNS).read_bytes()
    except FileNotFoundError as exc:
        raise ResultsError(f"{exc.filename} is missing; {again}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{folder / ANALYSIS} is damaged ({exc}); {again}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ResultsError(f"{folder / ANALYSIS} is damaged or of another version (expected format {FORMAT}); {again}")
    if hashlib.sha256(data).hexdigest() != doc["runs_sha256"]:
        raise ResultsError(f"{folder / RUNS} is damaged (its SHA-256 differs from the one in {ANALYSIS}); {again}")
    return Exploration(
        runs=_read_runs(data), uncertainties=tuple(doc["uncertainties"]), levers=tuple(doc["levers"]),
        outcomes=doc["outcomes"], predicates=doc["predicates"], never=doc["never"],
        prim={name: _prim(p) for name, p in doc["prim"].items()},
        scores=_frame(doc["feature_scores"], "input"), robustness=_frame(doc["robustness"], "policy"),
        counts=doc["counts"], settings=doc["settings"])
