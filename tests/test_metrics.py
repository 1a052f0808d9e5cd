"""The observation (sim/metrics.py; docs/MODEL.md 7.5 and 8) against hand-counted cases.

The incumbent is platform 1, not 0, so that a bit or a slot taken from the wrong platform shows. Counts are
added to non-zero totals, so that a count that overwrites instead of adding shows too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import metrics
from sim.population import UserState

K, INC = 3, 1  # platforms; the incumbent is platform 1
NAMES = ("line", "kakao", "telegram")
# Slots of a count vector (length 4 K + 4): active 0-2, primary 3-5, ever 6-8, adoption events 9-11,
# then multi-homing 12, incumbent only 13, not on the incumbent 14, left the incumbent 15.
BASE = np.arange(100, 1700, 100, dtype=np.int64)


def bits(*platforms: int) -> int:
    return sum(1 << k for k in platforms)


def part(*slots: int) -> np.ndarray:
    """One user's part of the counts: one in each of ``slots``."""
    out = np.zeros(4 * K + 4, dtype=np.int64)
    out[list(slots)] = 1
    return out


# (uses, ever, primary) of four users and their parts, counted by hand.
USERS = {
    "multi-homer": ((bits(0, 1), bits(0, 1, 2), 1), part(0, 1, 4, 6, 7, 8, 12)),
    "incumbent only": ((bits(1), bits(1), 1), part(1, 4, 7, 13)),
    "left the incumbent": ((bits(2), bits(1, 2), 2), part(2, 5, 7, 8, 14, 15)),
    "never on the incumbent": ((bits(0), bits(0), 0), part(0, 3, 6, 14)),
}


@pytest.mark.parametrize("user", list(USERS))
def test_a_user_adds_one_to_each_of_its_slots_and_takes_it_back(user):
    (uses, ever, primary), expected = USERS[user]
    out = BASE.copy()
    metrics.tally(out, uses, ever, primary, INC, K, 1)
    np.testing.assert_array_equal(out, BASE + expected)
    metrics.tally(out, uses, ever, primary, INC, K, -1)
    np.testing.assert_array_equal(out, BASE)


def four_users(adoptions: np.ndarray) -> UserState:
    uses, ever, primary = (np.array(column) for column in zip(*(u for u, _ in USERS.values()), strict=True))
    return UserState(uses=uses.astype(np.uint8), primary=primary.astype(np.int8), alarm=np.zeros(4),
                     heard=np.zeros(4, dtype=np.int32), ever=ever.astype(np.uint8), adoptions=adoptions)


ADOPTIONS = np.array([[1, 0, 2], [0, 3, 0], [0, 4, 5], [8, 0, 3]], dtype=np.uint16)


def test_a_block_of_users_adds_its_users_counts_and_adoption_events():
    s = four_users(ADOPTIONS)
    out = BASE.copy()
    metrics.count_block(1, 3, INC, s.uses, s.primary, s.ever, s.adoptions, out)   # users 1 and 2
    parts = [p for _, p in USERS.values()]
    events = np.zeros(4 * K + 4, dtype=np.int64)
    events[9:12] = [0, 7, 5]
    np.testing.assert_array_equal(out, BASE + parts[1] + parts[2] + events)


def test_the_state_is_counted_over_every_user_as_int64():
    out = metrics.count_state(four_users(ADOPTIONS), INC)
    events = np.zeros(4 * K + 4, dtype=np.int64)
    events[9:12] = [9, 7, 10]
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, sum(p for _, p in USERS.values()) + events)


def test_a_days_row_gives_each_count_as_a_share_of_the_users():
    counts = np.arange(1, 17) * 2             # 2, 4, ..., 32 over 50 users
    alarm = np.array([0.1, 0.3] * 25)
    row = metrics.observe(5, NAMES, INC, counts, alarm)
    assert row == {
        "day": 5,
        "active_line": 0.04, "active_kakao": 0.08, "active_telegram": 0.12,
        "primary_line": 0.16, "primary_kakao": 0.2, "primary_telegram": 0.24,
        "multihoming": 0.52, "incumbent_only": 0.56, "rivals_only": 0.6, "exit_kakao": 0.64,
        "mean_alarm": pytest.approx(0.2),
        "adopters_line": 0.28, "adopters_kakao": 0.32, "adopters_telegram": 0.36,
        "adoptions_line": 0.4, "adoptions_kakao": 0.44, "adoptions_telegram": 0.48,
    }


def test_the_weekly_ratio_is_the_mean_of_the_rivals_share_of_the_incumbents_over_the_next_seven_days():
    days = np.arange(10)
    ts = pd.DataFrame({"active_telegram": (days + 1) / 10, "active_kakao": np.full(10, 0.5)})   # x = (d + 1) / 5
    w = metrics.weekly_ratio(ts, "telegram", "kakao")
    expected = pd.Series([0.8, 1.0, 1.2, 1.4] + [np.nan] * 6)                                  # (d + 4) / 5
    pd.testing.assert_series_equal(w, expected, check_names=False)


def series(peak_day: int, peak: float, slope: float) -> np.ndarray:
    """A tent over days 0..24: ``peak`` on ``peak_day``, falling by ``slope`` a day on either side."""
    return peak - slope * np.abs(np.arange(25) - peak_day)


def test_outcomes_of_a_run_are_read_from_its_time_series():
    days = np.arange(25)
    ramp = np.linspace(0.0, 1.0, 25)
    ts = pd.DataFrame({
        "day": days,
        "active_kakao": np.where(days <= 10, 0.99 - 0.001 * days, 0.98 + 0.0005 * (days - 10)),
        "active_telegram": series(4, 0.5, 0.01),      # peak day 4: day 4 + 21 is past the end
        "active_line": series(2, 0.3, 0.005),
        "adopters_telegram": 0.01 + 0.59 * ramp,      # 0.59 new adopters
        "adoptions_telegram": 0.9 * ramp,             # 0.9 adoption events per user
        "adopters_line": np.full(25, 0.05),           # no new adopter
        "adoptions_line": 0.1 * ramp,
        "multihoming": 0.3 * ramp,
        "exit_kakao": 0.004 * ramp,
        "mean_alarm": series(6, 0.7, 0.02),
    })
    assert metrics.outcomes(ts, ("kakao", "telegram", "line"), 0) == pytest.approx({
        "peak_telegram": 0.5, "peak_day_telegram": 4, "after7_telegram": 0.43, "after14_telegram": 0.36,
        "after21_telegram": np.nan, "final_telegram": 0.3, "repeat_adoptions_telegram": 0.9 / 0.59,
        "peak_line": 0.3, "peak_day_line": 2, "after7_line": 0.265, "after14_line": 0.23, "after21_line": 0.195,
        "final_line": 0.19, "repeat_adoptions_line": np.nan,
        "trough_kakao": 0.98, "trough_day_kakao": 10, "final_kakao": 0.987, "loss_kakao": 0.01,
        "final_multihoming": 0.3, "final_exit_kakao": 0.004, "peak_mean_alarm": 0.7, "cascade_size": 0.6,
    }, nan_ok=True)


def test_outcomes_read_the_primary_flips_of_the_last_day_and_each_segments_peak_of_each_rival():
    days = np.arange(5)
    ts = pd.DataFrame({
        "day": days, "active_kakao": [1.0, 0.99, 0.98, 0.99, 0.99], "active_telegram": [0.0, 0.1, 0.2, 0.1, 0.1],
        "adopters_telegram": [0.0, 0.1, 0.2, 0.2, 0.2], "adoptions_telegram": [0.0, 0.1, 0.2, 0.2, 0.2],
        "multihoming": [0.0, 0.1, 0.2, 0.1, 0.1], "exit_kakao": [0.0] * 5, "mean_alarm": [0.1] * 5,
        "primary_flips": [0.0, 0.01, 0.03, 0.06, 0.07],               # cumulative: the last day's is the run's
        "engaged_active_telegram": [0.0, 0.5, 0.4, 0.3, 0.2],          # peaks on different days from the
        "general_active_telegram": [0.0, 0.02, 0.05, 0.08, 0.04],      # whole population's
    })
    out = metrics.outcomes(ts, ("kakao", "telegram"), 0)
    assert out["primary_flips"] == 0.07
    assert out["peak_engaged_telegram"] == 0.5
    assert out["peak_general_telegram"] == 0.08
    without = metrics.outcomes(ts.drop(columns=["primary_flips", "engaged_active_telegram",
                                                "general_active_telegram"]), ("kakao", "telegram"), 0)
    assert not {"primary_flips", "peak_engaged_telegram", "peak_general_telegram"} & set(without)


def test_drops_are_noted_on_the_day_a_user_stops_using_a_platform():
    left = np.full((3, 3), -1000, dtype=np.int32)
    before = np.array([0b011, 0b101, 0b001], dtype=np.uint8)
    after = np.array([0b001, 0b111, 0b000], dtype=np.uint8)   # user 0 drops 1; user 1 adds 1; user 2 drops 0
    metrics.note_drops(before, after, left, 7)
    assert left.tolist() == [[-1000, 7, -1000], [-1000, -1000, -1000], [7, -1000, -1000]]


def test_a_monthly_user_was_active_on_some_day_of_the_last_thirty():
    names = ("a", "b")
    uses = np.array([0b01, 0b00, 0b00, 0b10], dtype=np.uint8)
    # Users 1 and 2 stopped using a on days 12 and 11: their last days on it were 11 and 10.
    left = np.array([[-1000, -1000], [12, 5], [11, -1000], [-1000, -1000]], dtype=np.int32)
    # Day 40: the window is days 11 .. 40, so user 1 (last on day 11) counts and user 2 (day 10) does not.
    assert metrics.monthly_shares(40, names, uses, left) == {"monthly_a": 2 / 4, "monthly_b": 1 / 4}
    assert metrics.monthly_shares(39, names, uses, left) == {"monthly_a": 3 / 4, "monthly_b": 1 / 4}
    # Day 34: b's drop on day 5 (last day 4) is outside the window 5 .. 34, so it counts from day 33 back.
    assert metrics.monthly_shares(33, names, uses, left)["monthly_b"] == 2 / 4
    assert metrics.monthly_shares(34, names, uses, left)["monthly_b"] == 1 / 4


def test_segment_shares_count_each_segments_users_on_each_platform():
    uses = np.array([0b01, 0b11, 0b10, 0b01, 0b11, 0b100], dtype=np.uint8)  # engaged: users 0 and 1
    active = metrics.count_state(UserState(uses=uses, primary=np.zeros(6, np.int8), alarm=np.zeros(6),
                                           heard=np.zeros(6, np.int32), ever=uses,
                                           adoptions=np.zeros((6, 3), np.uint16)), 0)
    assert active[:3].tolist() == [4, 3, 1]
    assert metrics.segment_shares(("a", "b", "c"), uses[:2], active, 6) == {
        "engaged_active_a": 1.0, "engaged_active_b": 0.5, "engaged_active_c": 0.0,
        "general_active_a": 2 / 4, "general_active_b": 2 / 4, "general_active_c": 1 / 4}
