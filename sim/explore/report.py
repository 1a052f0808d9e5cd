"""An exploration's findings as text: what ``sim explore`` prints when its analysis is done."""

from __future__ import annotations

import math

from sim.explore.files import BoxLimit, Exploration

__all__ = ["limit_text", "summary"]


def _value(x: float, input_name: str, never: dict[str, int]) -> str:
    if input_name in never and x == never[input_name]:
        return "never"
    return f"{x:.0f}" if float(x).is_integer() and abs(x) >= 1 else f"{x:.3g}"


def limit_text(limit: BoxLimit, never: dict[str, int]) -> str:
    """One restricted input of a PRIM box, e.g. ``behaviour.mu in [0, 0.41] (qp: -, 1e-12)``."""
    qp = ", ".join("-" if math.isnan(q) else f"{q:.2g}" for q in (limit.qp_low, limit.qp_high))
    if limit.all_levels:
        kept = ", ".join(str(v).lower() for v in limit.levels)
        return f"{limit.input} in {{{kept}}} (qp: {qp})"
    low, high = (_value(v, limit.input, never) for v in (limit.low, limit.high))
    return f"{limit.input} in [{low}, {high}] (qp: {qp})"


def summary(e: Exploration, top: int = 3) -> str:
    """Per predicate: how often it holds, PRIM's box, the inputs that decide it; then each policy's
    satisficing shares and regrets."""
    c = e.counts
    lines = [f"exploration: {c['runs']} runs done ({c['scenarios']} scenarios x {c['policies']} policies), "
             f"{c['failed']} failed", ""]
    for name, p in e.prim.items():
        lines.append(f"{name} ({p.text}): holds in {p.cases} of {p.runs} runs ({100 * p.cases / max(p.runs, 1):.1f}%)")
        if p.skipped:
            lines.append(f"  PRIM: skipped, {p.skipped}")
        else:
            box = p.box
            lines.append(f"  PRIM box {p.chosen}: coverage {box['coverage']:.2f}, density {box['density']:.2f}, "
                         f"mass {box['mass']:.2f}, {len(p.limits)} inputs restricted")
            lines += [f"    {limit_text(limit, e.never)}" for limit in p.limits]
        scores = e.scores[name].dropna().sort_values(ascending=False).head(top)
        lines.append("  deciding inputs (extra trees): " + (", ".join(f"{k} {v:.2f}" for k, v in scores.items())
                                                            or "none (it does not vary)"))
        lines.append("")
    robust = e.robustness
    columns = [c for c in robust.columns if c.startswith(("satisficing:", "regret_p90:", "regret_max:"))]
    head = ["policy", *(".".join(k.split(".")[-2:]) for k in e.levers),
            *(c.split(":", 1)[1] if c.startswith("satisficing:") else c.replace("regret_", "").replace(":", " ")
              for c in columns)]
    rows = [[str(name), *(_value(float(v), k, e.never) if not isinstance(v, bool | str) else str(v).lower()
                          for k, v in row[list(e.levers)].items()),
             *(f"{100 * row[c]:.1f}%" if c.startswith("satisficing:") else f"{row[c]:.4f}" for c in columns)]
            for name, row in robust.iterrows()]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines.append(f"policies over {c['scenarios_compared']} scenarios: each predicate's satisficing share (scenarios "
                 "where it holds); regret (distance to the best policy in each scenario): 90th percentile, maximum")
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)
