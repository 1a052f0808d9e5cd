"""The observation operators (sim/expressions.py) against hand-computed values on a hand-made time series:
every family, every function, the arithmetic, and the errors for what is not allowed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.expressions import ExpressionError, Observables, parse

PLATFORMS = ("inc", "riv", "oth")

#: Ten days with distinct values in every column, so that reading the wrong column shows.
DAYS = np.arange(10)
SERIES = pd.DataFrame({
    "day": DAYS,
    "active_inc": 1.0 - 0.01 * DAYS,
    "active_riv": 0.02 + 0.01 * DAYS,
    "active_oth": 0.05 + 0.002 * DAYS,
    "primary_inc": 0.95 - 0.01 * DAYS,
    "primary_riv": 0.01 + 0.005 * DAYS,
    "primary_oth": 0.04 + 0.001 * DAYS,
    "monthly_riv": 0.03 + 0.012 * DAYS,
    "adopters_riv": 0.02 + 0.011 * DAYS,
    "adoptions_riv": 0.003 * DAYS**2,
    "multihoming": 0.04 + 0.003 * DAYS,
    "incumbent_only": 0.9 - 0.004 * DAYS,
    "rivals_only": 0.001 * DAYS,
    "exit_inc": 0.002 * DAYS,
    "mean_alarm": 0.1 + 0.02 * DAYS,
})


def value(text: str, daily_primary: float = 0.9, daily_secondary: float = 0.4):
    obs = Observables(series=SERIES, platforms=PLATFORMS, incumbent="inc", daily_primary=daily_primary,
                      daily_secondary=daily_secondary)
    return parse(text, PLATFORMS).evaluate(obs)


@pytest.mark.parametrize(("text", "column"), [
    ("active.riv", "active_riv"), ("primary.oth", "primary_oth"), ("monthly.riv", "monthly_riv"),
    ("adopters.riv", "adopters_riv"), ("adoptions.riv", "adoptions_riv"), ("multihoming", "multihoming"),
    ("incumbent_only", "incumbent_only"), ("rivals_only", "rivals_only"), ("exit", "exit_inc"),
    ("alarm", "mean_alarm"), ("day", "day"),
])
def test_each_series_reads_its_own_column(text, column):
    np.testing.assert_array_equal(value(text), SERIES[column].to_numpy(dtype=float))


def test_secondary_users_are_the_active_who_do_not_have_it_as_primary():
    # day 4: active 0.06, primary 0.03 -> 0.03
    assert value("secondary.riv")[4] == pytest.approx(0.06 - 0.03)


def test_daily_users_weigh_primary_and_secondary_users_by_their_daily_shares():
    # day 4 of riv: primary 0.03, secondary 0.03: 0.9 * 0.03 + 0.4 * 0.03 = 0.039
    assert value("daily.riv")[4] == pytest.approx(0.039)
    assert value("daily.riv", daily_primary=1.0, daily_secondary=0.0)[4] == pytest.approx(0.03)


def test_week_is_the_mean_of_the_next_seven_days_from_each_day():
    w = value("week(active.riv)")
    assert w[0] == pytest.approx(np.mean(0.02 + 0.01 * np.arange(7)))   # days 0..6: 0.05
    assert w[3] == pytest.approx(0.08)                                   # days 3..9
    assert np.isnan(w[4:]).all()                                         # day 10 is not in the run


def test_window_and_trailing_means_look_forward_and_back():
    assert value("window(alarm, 3)")[2] == pytest.approx((0.14 + 0.16 + 0.18) / 3)
    trailing = value("trailing(alarm, 3)")
    assert np.isnan(trailing[:2]).all()
    assert trailing[2] == pytest.approx((0.10 + 0.12 + 0.14) / 3)


def test_new_is_what_a_cumulative_series_gained_over_the_last_n_days():
    gained = value("new(adoptions.riv, 3)")
    assert np.isnan(gained[:3]).all()
    assert gained[5] == pytest.approx(0.003 * (25 - 4))                  # days 2 -> 5


@pytest.mark.parametrize("text", ["week(active.riv)", "window(alarm, 12)", "trailing(alarm, 12)",
                                  "new(adoptions.riv, 10)", "new(adoptions.riv, 15)"])
def test_a_window_longer_than_the_run_gives_a_series_of_the_run_s_length_all_unknown(text):
    short = Observables(series=SERIES.iloc[:5], platforms=PLATFORMS, incumbent="inc", daily_primary=0.9,
                        daily_secondary=0.4)                               # a five-day run: no full window
    got = parse(text, PLATFORMS).evaluate(short)
    assert len(got) == 5 and np.isnan(got).all()
    assert np.isnan(value("new(adoptions.riv, 15)")).all()                # ten days, a fifteen-day gain


def test_numbers_from_a_series_over_days():
    assert value("at(active.oth, 5)") == pytest.approx(0.06)
    assert value("mean(active.riv, 2, 4)") == pytest.approx(0.05)
    assert value("max(active.inc, 3, 7)") == pytest.approx(0.97)
    assert value("min(active.inc, 3, 7)") == pytest.approx(0.93)
    assert value("argmax(active.riv, 0, 9, 3)") == 9.0                 # days 0, 3, 6, 9
    assert value("argmax(active.riv, 0, 8, 3)") == 6.0
    assert value("argmin(active.inc, 2, 9)") == 9.0
    assert value("abs(at(active.riv, 0) - at(active.riv, 2))") == pytest.approx(0.02)


def test_arithmetic_keeps_its_precedence_and_divides_series_day_by_day():
    ratio = value("active.riv / active.inc")
    assert ratio[5] == pytest.approx(0.07 / 0.95)
    assert value("1 + 2 * at(active.riv, 1) - -1") == pytest.approx(2.06)
    assert value("at(week(active.riv / active.inc), 2)") == pytest.approx(
        np.mean((0.02 + 0.01 * np.arange(2, 9)) / (1 - 0.01 * np.arange(2, 9))))


def test_comparisons_and_boolean_combinations_give_one_or_zero():
    assert value("at(active.riv, 3) > 0.04") == 1.0
    assert value("at(active.riv, 3) >= 0.06") == 0.0
    assert value("at(active.riv, 3) < 0.06 and at(exit, 5) == 0.01") == 1.0
    assert value("at(active.riv, 3) > 1 or at(exit, 5) <= 0.0") == 0.0


def test_an_expression_may_span_lines():
    assert value("at(active.riv,\n    3)") == pytest.approx(0.05)


def test_a_division_by_zero_gives_nan_or_inf_not_an_error():
    assert math.isinf(value("1 / at(rivals_only, 0)"))


@pytest.mark.parametrize(("text", "message"), [
    ("active.nobody", "unknown platform 'nobody'"),
    ("weekly.riv", "unknown series family 'weekly'"),
    ("active", r"unknown name 'active' \(per platform: write active.<platform>\)"),
    ("median(active.riv, 0, 3)", r"unknown function median\(\)"),
    ("at(active.riv)", r"at\(\) takes 2 arguments, got 1"),
    ("at(3, 2)", r"the first argument of at\(\) must be a series"),
    ("at(active.riv, active.oth)", r"at\(\) takes numbers after its series"),
    ("active.riv > 0.1", "comparisons are between numbers, not series"),
    ("active.riv ** 2", "not allowed in an expression"),
    ("__import__('os')", "unknown function __import__"),
    ("'text'", "expected a number"),
    ("at(active.riv, 3", "not an expression"),
    ("[1, 2]", "not allowed in an expression"),
])
def test_what_is_not_an_observable_is_refused_when_parsed(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse(text, PLATFORMS)


@pytest.mark.parametrize(("text", "message"), [
    ("at(active.riv, 10)", r"days 10..10 are outside the run's days 0..9"),
    ("mean(active.riv, 5, 3)", r"days 5..3 are outside"),
    ("at(active.riv, 2.5)", "a day must be a whole number of at least 0, got 2.5"),
    ("window(active.riv, 0)", "a number of days must be a whole number of at least 1, got 0"),
    ("new(adoptions.riv, 1.5)", "a number of days must be a whole number"),
    ("argmax(week(active.riv), 4, 9)", r"no value on days 4..9"),
])
def test_days_outside_the_run_or_not_whole_are_errors_when_evaluated(text, message):
    with pytest.raises(ExpressionError, match=message):
        value(text)


def test_a_column_the_run_did_not_record_is_named():
    obs = Observables(series=SERIES.drop(columns="monthly_riv"), platforms=PLATFORMS, incumbent="inc")
    with pytest.raises(ExpressionError, match="no column 'monthly_riv'"):
        parse("monthly.riv", PLATFORMS).evaluate(obs)


def test_parse_lists_the_series_an_expression_reads():
    e = parse("at(week(active.riv / active.inc), 3) + at(exit, 2)", PLATFORMS)
    assert e.names == (("active", "riv"), ("active", "inc"), ("exit", None))
    assert not e.is_series
    assert parse("week(monthly.oth)", PLATFORMS).is_series
