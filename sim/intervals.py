"""The one confidence interval of the project: the mean of a sample and its Student t half-width at 95 %.

Summaries, figures and the calibration's confirmation all report replications' spread through
:func:`mean_ci95`, so "± 95 % CI" means the same everywhere.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = ["mean_ci95"]


def mean_ci95(values: ArrayLike, one_sided: bool = False) -> tuple[float, float]:
    """Mean of ``values`` and the half-width of its 95 % Student t confidence interval.

    Parameters
    ----------
    values
        The sample (e.g. one outcome over replications: a sequence, array or Series); NaN entries are left
        out.
    one_sided
        False: the two-sided interval, mean ± t_{0.975, n-1} s / sqrt(n). True: the one-sided 95 % bound,
        mean ± t_{0.95, n-1} s / sqrt(n) (for "the mean is above / below x with 95 % confidence").

    Returns
    -------
    (mean, half)
        ``s`` is the sample standard deviation (n - 1 in the denominator). NaN mean for an empty sample; NaN
        half-width for fewer than two values (no spread to estimate) or an infinite value among them.

    Examples
    --------
    >>> mean, half = mean_ci95([1.0, 2.0, 3.0, float("nan")])
    >>> mean, round(half, 4)
    (2.0, 2.4841)
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan
    t = stats.t.ppf(0.95 if one_sided else 0.975, len(x) - 1)
    with np.errstate(invalid="ignore"):  # an infinite value has no spread: NaN half-width, without a warning
        sd = x.std(ddof=1)
    return mean, float(t * sd / math.sqrt(len(x)))
