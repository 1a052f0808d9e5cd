"""The configuration schema: frozen dataclasses for a scenario, with each key's documentation and valid range
in its field metadata (read by the validator, :mod:`sim.config.validation`, and by the reference of
docs/CONFIG.md, :mod:`sim.config.reference`).

``sim.config.Scenario`` is the resolved configuration of one run. It is not Mesa's ``Model.scenario``
(Mesa's own object for scenario parameters, empty in our models): a model keeps ours as ``model.config``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EVENT_KINDS",
    "FOLDER_NAME",
    "IDENTIFIER",
    "MAX_PLATFORMS",
    "MAX_RUNS",
    "MAX_STEPS",
    "MAX_UTILITY",
    "NETWORK_KINDS",
    "SECTIONS",
    "SERIES_KINDS",
    "TOP_KEYS",
    "Behaviour",
    "Calibration",
    "ConfigError",
    "Distribution",
    "EventSpec",
    "ExperimentSettings",
    "Forecast",
    "Network",
    "Observed",
    "ObservedSeries",
    "PlatformSpec",
    "Population",
    "Prior",
    "Scenario",
    "Segment",
    "Target",
    "param",
    "plain",
]


class ConfigError(ValueError):
    """A configuration problem, with the file and key it concerns in the message."""


#: Most days a run may simulate (274 years: far beyond any episode; a bound against typing errors).
MAX_STEPS = 100_000
#: Most runs an experiment may have (scenarios x sweep points x replications): about a week of 0.5-second runs
#: on one core; a bound against typing errors, checked before anything is allocated.
MAX_RUNS = 1_000_000
#: Largest magnitude of a value in utility units, of a utility weight, or of a decision temperature: a thousand
#: times the model's unit (the configs use values below 2). Beyond it a config is a typing error, and products
#: of such values could overflow to inf and make the users' state meaningless.
MAX_UTILITY = 1000.0
#: What a name that becomes part of column names, run ids or file names must look like.
IDENTIFIER = (r"[a-z][a-z0-9_]*", "an identifier (lowercase letters, digits and _, starting with a letter)")
#: What a folder name (``experiment.name``) must look like.
COLOUR = (r"(#[0-9A-Fa-f]{6})?", "a colour as #RRGGBB, or empty")
FOLDER_NAME = (r"[A-Za-z0-9][A-Za-z0-9_.-]*", "a folder name (letters, digits, _ . - and no /, starting with a "
               "letter or digit)")


def param(default: Any, doc: str, *, lo: float | None = None, hi: float | None = None,
          choices: tuple[str, ...] | None = None, factory: Any = None,
          pattern: tuple[str, str] | None = None) -> Any:
    """A dataclass field with its documentation and valid range (read by the validator and the docs):
    ``lo``/``hi`` bound a number (or the values a trait distribution draws), ``choices`` list the allowed
    strings, ``pattern`` is a (regular expression, description) a string must match."""
    meta = {"doc": doc, "lo": lo, "hi": hi, "choices": choices, "pattern": pattern}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


# ---------------------------------------------------------------------------------------------------------
# The schema
# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Distribution:
    """A scalar trait distribution. ``beta`` uses a, b; ``normal`` mean, sd; ``uniform`` low, high; ``fixed``
    value. Draws are clipped to [low, high] (the trait's natural range)."""

    dist: str = param("beta", "distribution family", choices=("beta", "normal", "uniform", "fixed"))
    a: float = param(2.0, "beta shape a", lo=1e-9)
    b: float = param(2.0, "beta shape b", lo=1e-9)
    mean: float = param(0.5, "normal mean")
    sd: float = param(0.1, "normal standard deviation", lo=0.0)
    low: float = param(0.0, "lower bound (uniform support; clip for normal)")
    high: float = param(1.0, "upper bound (uniform support; clip for normal)")
    value: float = param(0.5, "the value of a `fixed` distribution")

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")

    @property
    def expected(self) -> float:
        """The distribution's mean before clipping (for documentation and quick checks)."""
        return {"beta": self.a / (self.a + self.b), "normal": self.mean,
                "uniform": (self.low + self.high) / 2, "fixed": self.value}[self.dist]


@dataclass(frozen=True)
class ExperimentSettings:
    """What to run: name, seed, length, engine."""

    name: str = param("scenario", "name of the experiment (used for the results folder)", pattern=FOLDER_NAME)
    description: str = param("", "what question the experiment answers")
    seed: int = param(0, "root seed; every run's seed is spawned from it", lo=0)
    replications: int = param(1, "runs per scenario (and sweep point), with spawned seeds; at most 1,000,000 runs "
                                 "in all (scenarios x sweep points x replications)", lo=1, hi=MAX_RUNS)
    steps: int = param(122, "days simulated after day 0", lo=1, hi=MAX_STEPS)
    engine: str = param("mesa", "simulation engine", choices=("mesa", "array"))
    start_date: str = param("", "calendar date of day 0 (ISO, e.g. 2014-09-01); empty for none")
    output: str = param("results", "folder under which results folders are written")
    snapshot_days: tuple[int, ...] = param((), "days on which to save each user's primary platform "
                                               "(network snapshots; small N only), each in [0, steps]",
                                           factory=tuple)


@dataclass(frozen=True)
class Segment:
    """The engaged segment (activists, journalists, lawmakers): more concerned, more attentive."""

    share: float = param(0.0, "fraction of users in the engaged segment", lo=0.0, hi=1.0)
    concern: Distribution = param(None, "privacy concern c of engaged users", lo=0.0, hi=1.0,
                                  factory=lambda: Distribution("beta", a=5.0, b=2.0))
    attention: Distribution = param(None, "attention a (chance to hear news directly) of engaged users",
                                    lo=0.0, hi=1.0, factory=lambda: Distribution("beta", a=5.0, b=2.0))


@dataclass(frozen=True)
class Population:
    """Users and their traits."""

    n: int = param(1000, "number of simulated users (agents)", lo=2)
    scale_to: int = param(0, "real users the run stands for (0: same as n); scales counts in summaries", lo=0)
    concern: Distribution = param(None, "privacy concern c in [0, 1] of ordinary users", lo=0.0, hi=1.0,
                                  factory=lambda: Distribution("beta", a=2.0, b=5.0))
    attention: Distribution = param(None, "attention a in [0, 1] of ordinary users", lo=0.0, hi=1.0,
                                    factory=lambda: Distribution("beta", a=2.0, b=3.0))
    inertia: Distribution = param(None, "switching cost kappa >= 0 (utility units)", lo=0.0, hi=MAX_UTILITY,
                                  factory=lambda: Distribution("normal", mean=0.4, sd=0.08, low=0.0, high=10.0))
    threshold: Distribution = param(None, "adoption threshold phi, compared with a share of contacts (rule "
                                          "`threshold` only; below 0: adopts anyway, above 1: never)",
                                    lo=-MAX_UTILITY, hi=MAX_UTILITY,
                                    factory=lambda: Distribution("uniform", low=0.0, high=0.5))
    taste_sd: float = param(0.06, "sd of the persistent personal taste e_k for each platform (utility units)",
                            lo=0.0, hi=MAX_UTILITY)
    seed_adopters: int = param(0, "users placed on the first rival at day 0 besides initial_share", lo=0)
    engaged: Segment = param(None, "the engaged segment", factory=Segment)


#: Most platforms a scenario may have (neighbour counts pack fresh news plus one flag per platform in 16 bits).
MAX_PLATFORMS = 15

NETWORK_KINDS = ("powerlaw_cluster", "watts_strogatz", "barabasi_albert", "sbm", "erdos_renyi",
                 "complete", "chung_lu", "file")


@dataclass(frozen=True)
class Network:
    """The social graph."""

    kind: str = param("powerlaw_cluster", "graph generator, or `file`", choices=NETWORK_KINDS)
    mean_degree: float = param(10.0, "mean number of contacts (generators)", lo=0.0)
    rewire_prob: float = param(0.1, "Watts-Strogatz rewiring probability", lo=0.0, hi=1.0)
    triangle_prob: float = param(0.5, "Holme-Kim probability of closing a triangle", lo=0.0, hi=1.0)
    exponent: float = param(2.5, "chung_lu: power-law exponent gamma of the expected degrees", lo=2.01)
    engaged_inside: float = param(0.5, "sbm, chung_lu: fraction of an engaged user's ties inside the engaged "
                                       "community", lo=0.0, hi=1.0)
    file: str = param("", "graph file (edge list, .graphml, .gml) for kind = `file`, relative to the config")


@dataclass(frozen=True)
class PlatformSpec:
    """A messenger. Exactly one platform is the incumbent; a scenario has 2 to 15 platforms."""

    name: str = param("", "platform name (the table's key)", pattern=IDENTIFIER)
    incumbent: bool = param(False, "the dominant messenger (exactly one)")
    domestic: bool = param(False, "within reach of domestic warrants")
    exposure: float = param(0.1, "how much of a user's talk the state can obtain from it", lo=0.0, hi=1.0)
    appeal: float = param(0.0, "features, language, habits (utility units)", lo=-MAX_UTILITY, hi=MAX_UTILITY)
    initial_share: float = param(0.0, "fraction of users active on it at day 0", lo=0.0, hi=1.0)
    label: str = param("", "display name in figures and on the page (default: the name, title-cased)")
    colour: str = param("", "colour in figures and on the page, #RRGGBB (default: the palette's next free "
                            "colour in config order)", pattern=COLOUR)


@dataclass(frozen=True)
class Behaviour:
    """Decision rule and its parameters (docs/MODEL.md, section Submodels)."""

    rule: str = param("ppm", "decision rule", choices=("ppm", "threshold", "bass"))
    b_net: float = param(1.0, "weight of the share of contacts on a platform in its use value V_k "
                              "(incumbent lock-in)", lo=0.0, hi=MAX_UTILITY)
    b_pull: float = param(0.2, "weight of a rival's share of contacts in the switching index X_k", lo=0.0,
                          hi=MAX_UTILITY)
    b_appeal: float = param(1.0, "weight of a platform's appeal", lo=0.0, hi=MAX_UTILITY)
    b_priv: float = param(1.0, "weight of perceived risk c*R_k in the use value V_k", lo=0.0, hi=MAX_UTILITY)
    b_push: float = param(1.0, "weight of the risk relief c*(R_p - R_k) in X_k (held at 1 when fitting: "
                               "only ratios are identified)", lo=0.0, hi=MAX_UTILITY)
    lam: float = param(0.15, "daily rate of acting on a wish to adopt (or return)", lo=0.0, hi=1.0)
    lam_drop: float = param(0.1, "daily rate of dropping a rival below the keep level", lo=0.0, hi=1.0)
    lam_exit: float = param(0.05, "daily rate of leaving the incumbent below exit_level", lo=0.0, hi=1.0)
    tau: float = param(0.02, "logistic temperature of decisions (0: deterministic steps)", lo=0.0, hi=MAX_UTILITY)
    band: float = param(0.15, "hysteresis between adopting and dropping (>= 0)", lo=0.0, hi=MAX_UTILITY)
    exit_level: float = param(0.45, "use value of the incumbent below which users leave it", lo=-MAX_UTILITY,
                              hi=MAX_UTILITY)
    habit: float = param(1.0, "bonus of the current primary when choosing the primary", lo=0.0, hi=MAX_UTILITY)
    mu: float = param(0.5, "word of mouth: alarm gain per unit share of contacts with fresh news",
                      lo=0.0, hi=1.0)
    buzz_days: int = param(3, "days that directly heard news stays fresh for word of mouth", lo=1)
    delta: float = param(0.06, "daily forgetting rate of alarm toward its baseline", lo=0.0, hi=1.0)
    r_base: float = param(0.05, "baseline alarm per unit concern (alarm rests at r_base * c)", lo=0.0, hi=1.0)
    word_of_mouth: str = param("contacts", "whom word of mouth comes from: a user's contacts, or the whole "
                                            "population (mean field, a null model)",
                               choices=("contacts", "population"))
    salience: float = param(0.0, "share of news and word of mouth that raises fast salience rather than slow "
                                 "alarm (0: one alarm, as in 2014)", lo=0.0, hi=1.0)
    salience_decay: float = param(0.3, "daily decay of salience toward 0 (with salience > 0)", lo=0.0, hi=1.0)
    bass_p: float = param(0.01, "Bass innovation coefficient p (rule `bass`)", lo=0.0, hi=MAX_UTILITY)
    bass_q: float = param(0.3, "Bass imitation coefficient q (rule `bass`)", lo=0.0, hi=MAX_UTILITY)


EVENT_KINDS: dict[str, tuple[str, ...]] = {
    # kind -> the parameters that kind takes (besides day, kind, id, enabled, note)
    "announcement": ("reach", "intensity", "duration_days"),
    "revelation": ("reach", "intensity", "duration_days"),
    "retention_cut": ("reach", "credibility", "duration_days", "exposure_factor", "exposure_to"),
    "encryption_promise": ("reach", "credibility", "duration_days"),
    "encryption_launch": ("reach", "credibility", "duration_days", "exposure_factor", "exposure_to"),
    "apology_refusal": ("reach", "credibility", "duration_days", "exposure_factor", "exposure_to"),
    "clarification": ("reach", "credibility", "duration_days"),
    "localisation": ("platform", "appeal_gain"),
    "feature": ("platform", "appeal_gain"),
    "outage": ("duration_days", "severity"),
    "policy_change": ("reach", "intensity", "duration_days", "exposure_factor", "exposure_to"),
    "quality_change": ("platform", "appeal_gain", "duration_days", "temporary"),
    "postponement": ("reach", "credibility", "duration_days", "target", "to_day"),
    "promotion": ("platform", "reach", "uptake", "duration_days"),
}


@dataclass(frozen=True)
class EventSpec:
    """A dated event. Which parameters apply depends on the kind (docs/CONFIG.md, Events)."""

    day: int = param(0, "day the event starts (day 0 is the initial state; events act from day 1)", lo=1)
    kind: str = param("announcement", "what happens", choices=tuple(EVENT_KINDS))
    id: str = param("", "unique name, used by overrides (`events.<id>.day`); default: the kind",
                    pattern=IDENTIFIER)
    enabled: bool = param(True, "false removes the event (counterfactuals)")
    note: str = param("", "free text: what happened, source")
    reach: float = param(1.0, "chance that a fully attentive user hears the news (times attention a_i)",
                         lo=0.0, hi=1.0)
    intensity: float = param(0.5, "alarming news: r <- r + intensity * (1 - r) for hearers", lo=0.0, hi=1.0)
    credibility: float = param(0.0, "calming news: r <- r * (1 - credibility) for hearers", lo=0.0, hi=1.0)
    duration_days: int = param(1, "days of news coverage over which hearers are spread (outage: days "
                                  "the incumbent is down; temporary quality_change: days it lasts)", lo=1)
    exposure_factor: float = param(1.0, "multiply the incumbent's exposure by this (at most 1 after)", lo=0.0)
    exposure_to: float = param(-1.0, "set the incumbent's exposure to this (-1: leave it)", lo=-1.0, hi=1.0)
    platform: str = param("", "the platform concerned: localisation, feature, promotion: a rival (default: "
                              "the first rival); quality_change: any platform (required)")
    appeal_gain: float = param(0.0, "added to the platform's appeal (negative: a loss)", lo=-MAX_UTILITY,
                               hi=MAX_UTILITY)
    temporary: bool = param(False, "quality_change: undo the change after duration_days")
    severity: float = param(1.0, "outage: push toward rivals while the incumbent is down (utility units)",
                            lo=0.0, hi=MAX_UTILITY)
    target: str = param("", "postponement: id of the event it moves (a later one)")
    to_day: int = param(0, "postponement: the target's new day, after the postponement's (0: cancelled)", lo=0)
    uptake: float = param(1.0, "promotion: chance that a hearer installs the rival", lo=0.0, hi=1.0)

    def applicable(self) -> tuple[str, ...]:
        """The keys that mean something for this event's kind (a permanent quality change has no duration)."""
        common = ("day", "kind", "id", "enabled", "note")
        own = EVENT_KINDS[self.kind]
        if self.kind == "quality_change" and not self.temporary:
            own = tuple(k for k in own if k != "duration_days")
        return (*common, *own)


SERIES_KINDS = ("weekly_active", "daily_active", "monthly_active", "new_adoptions", "cumulative_adoptions",
                "survey_share", "other")


@dataclass(frozen=True)
class ObservedSeries:
    """One observed series: rows of a CSV file, converted to the model's units (``value * scale / per``, over
    the matching rows of the denominator if ``divide_by`` is given), and the model expression it is compared
    with (sim/expressions.py). Days are the file's day column plus ``shift``."""

    id: str = param("", "name of the series (unique within the episode)", pattern=IDENTIFIER)
    label: str = param("", "what the series is, for plots and reports")
    kind: str = param("other", "what the data measure (docs/MODEL.md, Observation)", choices=SERIES_KINDS)
    file: str = param("", "CSV file, relative to observed.folder")
    day: str = param("day", "column of the day index (day 0 = the file's day 0)")
    value: str = param("value", "column of the value")
    where: tuple[str, ...] = param((), "row filters, each 'column=value'", factory=tuple)
    divide_by: tuple[str, ...] = param((), "filters of the rows to divide by, matched on the day (a ratio of two "
                                           "apps' rows)", factory=tuple)
    scale: float = param(1.0, "multiply the values by this (e.g. 1e6 for millions)", lo=0.0)
    per: float = param(1.0, "divide the values by this (e.g. the incumbent's users, to give a share)", lo=1e-300)
    shift: int = param(0, "days to add to the file's days (a config whose day 0 is earlier than the data's)")
    model: str = param("", "the model expression the values are compared with (a series)")
    fit: bool = param(True, "used by calibration (false: drawn and reported only)")
    sigma: float = param(0.3, "the data's error for calibration: a model value off by a factor e^sigma counts "
                              "one unit of the distance", lo=1e-6)


@dataclass(frozen=True)
class Target:
    """A numbered pattern of the episode: an expression of one run's time series, and the data's range."""

    id: str = param("", "name of the target (unique within the episode)", pattern=IDENTIFIER)
    pattern: int = param(0, "the number of the data README's pattern it belongs to", lo=0)
    text: str = param("", "what the target says, with the data behind its range")
    value: str = param("", "the model expression giving the number (sim/expressions.py)")
    low: float | None = param(None, "lowest value within the data's range (none: unbounded)")
    high: float | None = param(None, "highest value within the data's range (none: unbounded)")
    percent: bool = param(False, "report the value as a percentage")


@dataclass(frozen=True)
class Observed:
    """An episode's observed data and targets (its data README's series and numbered patterns)."""

    folder: str = param("", "folder of the episode's data files, relative to the config")
    notes: str = param("", "what the model misses for this episode and why, in model terms (for the report)")
    daily_primary: float = param(0.9, "share of a platform's users with it as primary who use it on a given day "
                                      "(daily.p; the data's daily/weekly ratios)", lo=0.0, hi=1.0)
    daily_secondary: float = param(0.45, "share of a platform's other users who use it on a given day (daily.p)",
                                   lo=0.0, hi=1.0)
    series: tuple[ObservedSeries, ...] = param((), "the observed series ([[observed.series]])", factory=tuple)
    targets: tuple[Target, ...] = param((), "the targets ([[observed.targets]])", factory=tuple)
    forecasts: tuple[Forecast, ...] = param((), "numbers to forecast with intervals ([[observed.forecasts]])",
                                            factory=tuple)


@dataclass(frozen=True)
class Forecast:
    """A number the episode's data do not give (after the data end, or never observed): reported with the
    model's predictive interval (``sim predict``, docs/VALIDATION.md), never compared with anything."""

    id: str = param("", "name of the forecast (unique within the episode)", pattern=IDENTIFIER)
    text: str = param("", "what it is")
    value: str = param("", "the model expression giving the number (sim/expressions.py)")
    percent: bool = param(False, "report the value as a percentage")


@dataclass(frozen=True)
class Prior:
    """A fitted parameter and its prior, uniform on [low, high]. ``key`` is a dotted config key whose value is
    fitted, or, with ``scales``, the name of a factor that multiplies each listed key's configured value (one
    news-intensity scale for all of an episode's news, say). When the configured values are the point run's
    (the factor's median already applied), ``point`` says so, and the factor applies relative to it."""

    key: str = param("", "dotted config key fitted (or, with scales, the factor's name)")
    low: float = param(0.0, "lower end of the uniform prior")
    high: float = param(1.0, "upper end of the uniform prior")
    shared: bool = param(False, "the same parameter in every episode fitted together (the same key and "
                                "range in each); else its own per episode")
    scales: tuple[str, ...] = param((), "dotted keys the factor multiplies (their configured values)",
                                    factory=tuple)
    point: float = param(1.0, "with scales: the factor's value the configured values already include (its "
                              "posterior median, written into the config); a fit or a draw multiplies them by "
                              "factor / point", lo=0.0)
    reason: str = param("", "why this range")


@dataclass(frozen=True)
class Calibration:
    """What ``sim calibrate`` fits (docs/VALIDATION.md, Calibration): the priors."""

    priors: tuple[Prior, ...] = param((), "the fitted parameters ([[calibration.priors]])", factory=tuple)


@dataclass(frozen=True)
class Scenario:
    """Everything one run needs. Build with :func:`load_config`."""

    experiment: ExperimentSettings
    population: Population
    network: Network
    platforms: tuple[PlatformSpec, ...]
    behaviour: Behaviour
    events: tuple[EventSpec, ...]
    observed: Observed = field(default_factory=Observed)
    calibration: Calibration = field(default_factory=Calibration)
    source: str = ""
    base_dir: str = "."

    @property
    def platform_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.platforms)

    @property
    def incumbent(self) -> int:
        """Index of the incumbent in :attr:`platforms`."""
        return next(i for i, p in enumerate(self.platforms) if p.incumbent)

    @property
    def rivals(self) -> tuple[int, ...]:
        return tuple(i for i, p in enumerate(self.platforms) if not p.incumbent)

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain TOML-able data (platforms keyed by name, events as a list)."""
        d = {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)
             if f.name not in ("platforms", "events", "source", "base_dir")}
        d["platforms"] = {p.name: {k: v for k, v in plain(p).items() if k != "name"} for p in self.platforms}
        d["events"] = [{k: v for k, v in plain(e).items() if k in e.applicable()} for e in self.events]
        return d



def plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple):
        return [plain(x) for x in obj]
    return obj



SECTIONS: dict[str, type] = {"experiment": ExperimentSettings, "population": Population, "network": Network,
                             "behaviour": Behaviour, "observed": Observed, "calibration": Calibration}
TOP_KEYS = (*SECTIONS, "platforms", "events", "extends")
