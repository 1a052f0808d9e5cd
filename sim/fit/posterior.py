"""A posterior on disk: ``posterior.parquet`` (one row per particle: one column per fitted parameter, the model
variant, the weight) with ``manifest.json`` beside it (the parameters' priors, the fit's settings and
history); weighted quantiles, seeded draws, and a draw applied to a config.

Columns are dotted config keys for shared parameters and ``<episode>:<key>`` for an episode's own. A draw
applies to a config by these rules (:meth:`Posterior.overrides`), and every key not applied is reported:

- the draw's model variant fixes its keys (the media-only variant sets ``mu = b_pull = 0``);
- a shared key applies if the config has it;
- an episode's own key applies only to a config of that episode (:func:`sim.fit.problem.episode_of`), and
  only if the config has it;
- a factor (a prior with ``scales``) multiplies the config's own values of the keys it scales by
  factor / point, where ``point`` is the factor's value those configured values already include (the config's
  prior of that name says; 1 if the config declares none);
- a parameter a particle's model variant does not fit (NaN) is left as configured.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, Scenario
from sim.config.schema import Prior
from sim.errors import ResultsError
from sim.fit.problem import VARIANTS, config_value, factor_point, scaled

__all__ = ["MANIFEST", "POSTERIOR", "Posterior", "weighted_quantile"]

POSTERIOR = "posterior.parquet"
MANIFEST = "manifest.json"


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """Quantile(s) ``q`` of ``values`` with ``weights`` (the weighted empirical distribution, interpolated
    at the midpoints of each value's weight), NaN values left out."""
    values, weights = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
    keep = np.isfinite(values) & (weights > 0)
    values, weights = values[keep], weights[keep]
    if len(values) == 0:
        return np.full(np.shape(q), np.nan)
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    cum = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return np.interp(q, cum, values)


@dataclass
class Posterior:
    """Particles (parameter columns, ``model``, ``weight`` summing to 1), the fitted parameters' records
    (column, key, episode, prior) and the fit's manifest."""

    particles: pd.DataFrame
    parameters: list[dict[str, Any]]
    manifest: dict[str, Any]
    path: Path | None = None

    @property
    def columns(self) -> list[str]:
        return [p["column"] for p in self.parameters]

    @classmethod
    def load(cls, path: str | Path) -> Posterior:
        """Read ``posterior.parquet`` and the ``manifest.json`` beside it (ResultsError naming the file if
        either is missing, damaged or does not match the other)."""
        path = Path(path)
        if path.is_dir():
            path = path / POSTERIOR
        manifest_path = path.parent / MANIFEST
        for p in (path, manifest_path):
            if not p.is_file():
                raise ResultsError(f"{p} is missing; a posterior is the output of 'sim calibrate' (posterior.parquet "
                                   "with its manifest.json)")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            particles = pd.read_parquet(path)
        except (ValueError, OSError) as exc:
            raise ResultsError(f"{path.parent}: the posterior does not read ({exc})") from None
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if manifest.get("posterior_sha256") != digest:
            raise ResultsError(f"{path} does not match {manifest_path} (checksum); the files come from different "
                               "fits or one was changed")
        return cls(particles, manifest["parameters"], manifest, path)

    def save(self, folder: Path) -> Path:
        """Write ``posterior.parquet`` and ``manifest.json`` (with the parquet's checksum) into ``folder``."""
        from sim.store import write_text_atomic
        from sim.validation import plain

        folder.mkdir(parents=True, exist_ok=True)
        path = folder / POSTERIOR
        tmp = folder / f".{POSTERIOR}.tmp"
        self.particles.to_parquet(tmp, index=False)
        tmp.replace(path)
        manifest = {**self.manifest, "parameters": self.parameters,
                    "posterior_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        write_text_atomic(folder / MANIFEST, json.dumps(plain(manifest), indent=1) + "\n")
        self.manifest, self.path = manifest, path
        return path

    def quantiles(self, column: str, q: float | np.ndarray, model: str | None = None) -> np.ndarray:
        """Weighted quantiles of a column (over one model variant's particles, or all)."""
        rows = self.particles if model is None else self.particles[self.particles["model"] == model]
        return weighted_quantile(rows[column].to_numpy(), rows["weight"].to_numpy(), q)

    def median(self, column: str, model: str | None = None) -> float:
        return float(self.quantiles(column, 0.5, model))

    def point_values(self, episode: str, model: str = "contacts") -> dict[str, float]:
        """What an episode's config takes as its point values: the weighted median of every parameter that
        ``model`` fits and that acts on ``episode`` (shared, or the episode's own), over all the particles
        that fit it, whatever their variant. Keyed by the prior's key (a factor by its name, its median being
        the factor's ``point``)."""
        return {r["key"]: self.median(r["column"]) for r in self.parameters
                if model in r["models"] and r["episode"] in (None, episode)}

    def draws(self, n: int, seed: int | np.random.SeedSequence) -> pd.DataFrame:
        """``n`` particles drawn with replacement in proportion to their weights (seeded), in draw order."""
        w = self.particles["weight"].to_numpy(dtype=float)
        rng = np.random.default_rng(seed)
        picks = rng.choice(len(w), size=n, replace=True, p=w / w.sum())
        return self.particles.iloc[picks].reset_index(drop=True)

    def prior(self, column: str) -> Prior:
        record = next(p for p in self.parameters if p["column"] == column)
        return Prior(key=record["key"], low=record["low"], high=record["high"], shared=record["episode"] is None,
                     scales=tuple(record.get("scales", ())), reason=record.get("reason", ""))

    def overrides(self, draw: Mapping[str, Any], scenario: Scenario, episode: str | None
                  ) -> tuple[dict[str, Any], list[str]]:
        """A draw's dotted-key overrides of ``scenario`` (of episode ``episode``), and the notes of what it does
        not apply (module docstring)."""
        model = str(draw.get("model", "contacts"))
        if model not in VARIANTS:
            raise ConfigError(f"posterior: unknown model variant {model!r} (known: {', '.join(VARIANTS)})")
        out: dict[str, Any] = dict(VARIANTS[model].fixed)
        skipped: list[str] = []
        for record in self.parameters:
            column, own = record["column"], record["episode"]
            value = float(draw[column])
            if math.isnan(value) or record["key"] in VARIANTS[model].fixed:  # not fitted in the draw's variant
                continue
            if own is not None and own != episode:
                skipped.append(f"{column}: the {own} episode's own")
                continue
            keys = record.get("scales") or [record["key"]]
            point = factor_point(scenario, record["key"]) if record.get("scales") else 1.0
            for key in keys:
                try:
                    configured = config_value(scenario, key)
                except KeyError:
                    skipped.append(f"{column}: this config has no {key}")
                    continue
                out[key] = scaled(configured, value, point) if record.get("scales") else value
        return out, skipped
