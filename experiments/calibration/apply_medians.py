"""Write a posterior's weighted medians into episode configs as their point values (a maintainer's step after
shipping a new joint fit; tests/test_validation_calibration.py checks the configs hold them).

    python experiments/calibration/apply_medians.py experiments/calibration experiments/korea_2014.toml ...

For each config (its episode: its ``experiment.name``), every parameter the configured model ("contacts") fits
that acts on the episode gets the posterior's weighted median over all particles that fit it
(:meth:`sim.fit.posterior.Posterior.point_values`):

- a behaviour key or the inertia mean: its line in the config, three significant digits;
- a factor (a prior with ``scales``): its median to three digits becomes the prior's ``point``, and each key
  it scales its hand-set value (the one the line's comment records, else the value / the old ``point``) times
  that point (``sim predict`` and ``sim calibrate`` apply a factor relative to its ``point``).

The comment block before ``[behaviour]`` (from "# The joint posterior" on) is rewritten from the manifest.
Only lines of the config are replaced; the rest of the file, comments included, is kept.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sim import load_config
from sim.fit.posterior import Posterior
from sim.fit.problem import config_value
from sim.validation.calibration import converged, last_fall

NOTE = "joint posterior median (experiments/calibration)"


def fmt(value: float) -> str:
    return f"{value:.3g}"


def find_line(text: str, section: str, key: str) -> tuple[int, int, str]:
    """Where the one ``key = ...`` line of the section whose header matches ``section`` is, and the line."""
    m = re.search(section, text, flags=re.M)
    if m is None:
        raise SystemExit(f"no section {section!r}")
    nxt = re.search(r"^\[", text[m.end():], flags=re.M)
    end = m.end() + (nxt.start() if nxt else len(text) - m.end())
    lines = list(re.finditer(rf"^{re.escape(key)} = [^\n]*$", text[m.end():end], flags=re.M))
    if len(lines) != 1:
        raise SystemExit(f"{key}: expected one line in section {section!r}, found {len(lines)}")
    return m.end() + lines[0].start(), m.end() + lines[0].end(), lines[0].group(0)


def set_line(text: str, section: str, key: str, value: str, note: str) -> str:
    """Replace the one ``key = ...`` line of the section whose header matches ``section``."""
    start, end, _ = find_line(text, section, key)
    line = f"{key} = {value}"
    return text[:start] + f"{line:<31}# {note}" + text[end:]


def header(post: Posterior, values: dict[str, float]) -> str:
    """The comment block before [behaviour]: where the values come from, and how far to trust them."""
    m = post.manifest
    probs = m["model_probabilities"]
    best = max(probs, key=probs.get)
    gens = m["generations"]
    drop = last_fall(gens)
    verdict = "converged" if converged(gens) else "not converged"
    listed = ", ".join(f"{k.split('.')[-1] if not k.startswith('population') else 'inertia.mean'} {fmt(v)}"
                       for k, v in values.items())
    mu = m["model_fixed"].get(best, {})
    fixed = f" ({', '.join(f'{k.split('.')[-1]} = {v}' for k, v in mu.items())})" if mu else ""
    lines = [
        "# The point values marked 'joint posterior median' are the weighted medians of the joint posterior of",
        f"# the {len(m['configs'])} episodes (experiments/calibration; docs/VALIDATION.md, Calibration), each over all",
        "# the particles that fit it, written by experiments/calibration/apply_medians.py:",
        f"# {listed}.",
        f"# That fit ran {len(gens)} populations (threshold {gens[0]['epsilon']:.0f} -> {gens[-1]['epsilon']:.0f}, "
        f"{verdict}: the last fell {drop:.0%}) and prefers",
        f"# the {best} model{fixed} (probability {probs[best]:.2f}); this config runs the contacts model, word",
        "# of mouth from contacts, with mu and b_pull at their medians over the particles that fit them.",
        "# Medians of a wide posterior are one point of it: `sim predict` draws from the whole posterior.",
    ]
    return "\n".join(lines) + "\n"


def apply(post: Posterior, path: Path) -> None:
    text = path.read_text()
    scenario = load_config(path)
    episode = scenario.experiment.name
    values = post.point_values(episode)
    for key, median in values.items():
        prior = next(q for q in scenario.calibration.priors if q.key == key)
        if prior.scales:
            point = float(fmt(median))  # as the other values: three digits, and the products exact decimals
            for scaled in prior.scales:
                _, event, field = scaled.split(".")
                section = rf'^\[\[events\]\]\nid = "{event}"\n'
                written = re.search(r"x hand-set (\S+)$", find_line(text, section, field)[2])
                base = float(written.group(1)) if written else config_value(scenario, scaled) / prior.point
                text = set_line(text, section, field, f"{base * point:.6g}", f"{key} {point:g} x hand-set {base:g}")
            block = re.search(rf'^key = "{key}"\n(?:[^\n]+\n)*?high = [^\n]*\n(point = [^\n]*\n)?', text, flags=re.M)
            if block is None:
                raise SystemExit(f"{path}: no prior {key!r} with a high end")
            line = f"point = {point:g}"
            text = (text[:block.start(1) if block.group(1) else block.end()]
                    + f"{line:<31}# its joint posterior median, already in the values it scales\n" + text[block.end():])
        elif key.startswith("behaviour."):
            text = set_line(text, r"^\[behaviour\][^\n]*\n", key.split(".", 1)[1], fmt(median), NOTE)
        elif key == "population.inertia.mean":
            new = fmt(median)
            text, n = re.subn(r"^(inertia = \{[^}]*mean = )[0-9.]+([^}]*\})[^\n]*",
                              lambda m, new=new: f"{m.group(1)}{new}{m.group(2)}   # mean: {NOTE}", text, flags=re.M)
            if n != 1:
                raise SystemExit(f"{path}: expected one inertia line, found {n}")
        else:
            raise SystemExit(f"{path}: cannot write {key}")
    factors = {q.key for q in scenario.calibration.priors if q.scales}
    listed = dict(sorted(values.items(), key=lambda kv: kv[0] in factors))  # the factors last
    block = re.compile(r"^# (The joint posterior|The point values marked)[^\n]*\n(?:#[^\n]*\n)*(?=\[behaviour\])", re.M)
    if not block.search(text):
        raise SystemExit(f"{path}: no comment block before [behaviour] to replace")
    text = block.sub(lambda _: header(post, listed), text, count=1)
    text = re.sub(r"^\[behaviour\][^\n]*\n", "[behaviour]                    # shared by every episode\n", text,
                  count=1, flags=re.M)
    path.write_text(text)
    load_config(path)  # still a valid config
    print(f"{path}: {len(values)} point values")


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit("usage: apply_medians.py POSTERIOR_DIR CONFIG [CONFIG ...]")
    post = Posterior.load(argv[0])
    for config in argv[1:]:
        apply(post, Path(config))


if __name__ == "__main__":
    main(sys.argv[1:])
