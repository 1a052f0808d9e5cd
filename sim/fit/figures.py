"""Figures of a fit: each parameter's posterior against its prior, the shared parameters pairwise, and the
posterior predictive of every episode against its data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.config import Scenario, load_config
from sim.episode import load_series, observables
from sim.fit.posterior import Posterior
from sim.fit.problem import with_values

__all__ = ["marginals", "pairs", "predictive", "predictive_runs"]


def marginals(posterior: Posterior, path: Path) -> Path:
    """A weighted histogram of every parameter against its uniform prior, one panel each."""
    records = posterior.parameters
    cols = 4
    rows = -(-len(records) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    particles = posterior.particles
    for ax, record in zip(axes.flat, records, strict=False):
        values, weights = particles[record["column"]].to_numpy(), particles["weight"].to_numpy()
        keep = np.isfinite(values)
        ax.hist(values[keep], bins=15, range=(record["low"], record["high"]), weights=weights[keep], density=True,
                color="C0", alpha=0.7, label="posterior")
        ax.axhline(1.0 / (record["high"] - record["low"]), color="k", ls="--", lw=1, label="prior")
        ax.set_title(record["column"], fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(records):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def pairs(posterior: Posterior, path: Path) -> Path:
    """The shared parameters pairwise (particles sized by weight), their marginals on the diagonal."""
    shared = [r for r in posterior.parameters if r["episode"] is None]
    k = len(shared)
    fig, axes = plt.subplots(k, k, figsize=(1.9 * k, 1.9 * k), squeeze=False)
    p = posterior.particles
    w = p["weight"].to_numpy()
    for i, ri in enumerate(shared):
        for j, rj in enumerate(shared):
            ax = axes[i, j]
            x, y = p[rj["column"]].to_numpy(), p[ri["column"]].to_numpy()
            if i == j:
                keep = np.isfinite(x)
                ax.hist(x[keep], bins=12, range=(rj["low"], rj["high"]), weights=w[keep], color="C0", alpha=0.7)
            else:
                ax.scatter(x, y, s=400 * w / w.max() + 2, alpha=0.5, color="C0", lw=0)
                ax.set_xlim(rj["low"], rj["high"])
                ax.set_ylim(ri["low"], ri["high"])
            ax.tick_params(labelsize=5)
            if i == k - 1:
                ax.set_xlabel(rj["column"].split(".")[-1], fontsize=7)
            if j == 0:
                ax.set_ylabel(ri["column"].split(".")[-1], fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def predictive_runs(posterior: Posterior, config: str | Path, draws: int, seed: int, n: int | None = None
                    ) -> tuple[Scenario, list[pd.DataFrame]]:
    """Runs of ``config`` for ``draws`` posterior draws (seeded; one run each, its own seed), at ``n`` users
    (default: the config's)."""
    from sim import simulate
    from sim.fit.problem import episode_of

    base = load_config(config, {"experiment.engine": "array", **({"population.n": n} if n else {})})
    episode = episode_of(config)
    seeds = np.random.SeedSequence(seed).spawn(draws)
    runs = []
    for (_, row), s in zip(posterior.draws(draws, seed).iterrows(), seeds, strict=True):
        overrides, _ = posterior.overrides(row, base, episode)
        runs.append(simulate(with_values(base, overrides), s, "array"))
    return base, runs


def predictive(scenario: Scenario, runs: Sequence[pd.DataFrame], path: Path, title: str) -> Path:
    """Each observed series against the model's 50 % and 90 % predictive bands at every day."""
    observed = [load_series(scenario, s) for s in scenario.observed.series]
    k = max(len(observed), 1)
    fig, axes = plt.subplots(k, 1, figsize=(8, 2.3 * k + 0.6), squeeze=False, sharex=True)
    for ax, data in zip(axes[:, 0], observed, strict=False):
        values = np.array([np.asarray(data.model.evaluate(observables(scenario, ts)), dtype=float) for ts in runs])
        days = np.flatnonzero(np.isfinite(values).any(axis=0))
        q = np.nanquantile(values[:, days], [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        ax.fill_between(days, q[0], q[4], color="C0", alpha=0.18, lw=0, label="90 % predictive")
        ax.fill_between(days, q[1], q[3], color="C0", alpha=0.35, lw=0, label="50 % predictive")
        ax.plot(days, q[2], color="C0", lw=1.2, label="median")
        ax.plot(data.days, data.values, "o", mfc="none", color="k",
                label="data (fitted)" if data.spec.fit else "data (not fitted)")
        ax.set_title(f"{data.spec.id}: {data.model.text}", fontsize=8)
        ax.tick_params(labelsize=7)
        if (data.values > 0).all() and data.spec.kind in ("new_adoptions", "cumulative_adoptions"):
            ax.set_yscale("log")
    axes[0, 0].legend(fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def all_figures(posterior: Posterior, configs: Sequence[str | Path], folder: Path, draws: int, seed: int,
                n: int | None) -> list[Path]:
    """The fit's figures into ``folder``: marginals, pairs of the shared parameters, and each episode's
    posterior predictive (``draws`` runs at ``n`` users)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = [marginals(posterior, folder / "posterior_marginals.png")]
    if sum(r["episode"] is None for r in posterior.parameters) > 1:
        out.append(pairs(posterior, folder / "posterior_pairs.png"))
    for config in configs:
        scenario, runs = predictive_runs(posterior, config, draws, seed, n)
        name = scenario.experiment.name
        out.append(predictive(scenario, runs, folder / f"predictive_{name}.png",
                              f"{name}: posterior predictive ({draws} draws, N = {scenario.population.n:,})"))
    return out
