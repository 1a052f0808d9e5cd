"""Config loading: the schema, extends, overrides, and errors that name the file, the key and the fix."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from conftest import ROOT, SMALL, small_scenario

import sim
from sim.config import EVENT_KINDS, ConfigError, build_scenario, config_reference, load_config

KOREA = ROOT / "experiments" / "korea_2014.toml"


def write(tmp_path: Path, text: str, name: str = "x.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BASE = """
[experiment]
name = "x"
[platforms.kakao]
incumbent = true
initial_share = 1.0
[platforms.telegram]
initial_share = 0.01
"""


def test_korea_scenario_loads_with_its_timeline():
    s = load_config(KOREA)
    assert s.platform_names == ("kakaotalk", "telegram", "line")
    assert s.platform_names[s.incumbent] == "kakaotalk"
    assert [e.day for e in s.events] == sorted(e.day for e in s.events)
    assert {e.kind for e in s.events} >= {"announcement", "revelation", "apology_refusal", "clarification"}
    assert s.experiment.start_date == "2014-09-01"


def test_unknown_key_names_file_key_and_closest_valid_key(tmp_path):
    path = write(tmp_path, BASE + "[behaviour]\nb_psh = 2.0\n")
    with pytest.raises(ConfigError, match=r"unknown key 'behaviour.b_psh' in .*x.toml; did you mean 'b_push'\?"):
        load_config(path)


def test_unknown_section_suggests_the_closest(tmp_path):
    path = write(tmp_path, BASE + "[behavior]\nmu = 0.2\n")
    with pytest.raises(ConfigError, match=r"unknown key 'behavior' in .*x.toml; did you mean 'behaviour'\?"):
        load_config(path)


def test_wrong_type_names_the_expected_type(tmp_path):
    path = write(tmp_path, BASE + '[population]\nn = "many"\n')
    with pytest.raises(ConfigError, match=r"key 'population.n' in .*x.toml: expected an integer, got 'many'"):
        load_config(path)


def test_bool_is_not_a_number(tmp_path):
    path = write(tmp_path, BASE + "[behaviour]\nmu = true\n")
    with pytest.raises(ConfigError, match=r"key 'behaviour.mu' .*expected a number, got True"):
        load_config(path)


def test_out_of_range_names_the_range(tmp_path):
    path = write(tmp_path, BASE + "[behaviour]\nmu = 1.5\n")
    with pytest.raises(ConfigError, match=r"key 'behaviour.mu' in .*x.toml: expected a value in \[0.0, 1.0\], got 1.5"):
        load_config(path)


def test_bad_choice_suggests_the_closest(tmp_path):
    path = write(tmp_path, BASE + '[network]\nkind = "watts_strogats"\n')
    with pytest.raises(ConfigError, match=r"key 'network.kind' .*did you mean 'watts_strogatz'\?"):
        load_config(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found: .*nope.toml"):
        load_config(tmp_path / "nope.toml")


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    path = write(tmp_path, "[experiment\nname = 1")
    with pytest.raises(ConfigError, match=r"x.toml: not valid TOML"):
        load_config(path)


def test_exactly_one_incumbent(tmp_path):
    path = write(tmp_path, BASE.replace("incumbent = true", "incumbent = false"))
    with pytest.raises(ConfigError, match=r"exactly one platform with incumbent = true, found 0"):
        load_config(path)


def test_extends_merges_tables_and_child_wins(tmp_path):
    write(tmp_path, BASE + "[behaviour]\nmu = 0.3\ndelta = 0.1\n", "base.toml")
    child = write(tmp_path, 'extends = "base.toml"\n[behaviour]\nmu = 0.4\n', "child.toml")
    s = load_config(child)
    assert (s.behaviour.mu, s.behaviour.delta) == (0.4, 0.1)
    assert s.platform_names == ("kakao", "telegram")


def test_circular_extends_is_refused(tmp_path):
    write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(ConfigError, match="circular 'extends'"):
        load_config(tmp_path / "a.toml")


def test_dotted_overrides_set_keys_and_edit_events():
    s = load_config(KOREA, {"population.n": 500, "events.kakao_apology.day": 17,
                            "events.secret_chat_launch.enabled": False})
    assert s.population.n == 500
    days = {e.id: e.day for e in s.events}
    assert days["kakao_apology"] == 17 and "secret_chat_launch" not in days


def test_override_adds_an_event_given_as_a_table():
    s = load_config(KOREA, {"events.crackdown_2015": {"day": 100, "kind": "announcement", "intensity": 0.4}})
    assert any(e.id == "crackdown_2015" and e.day == 100 for e in s.events)


def test_override_of_unknown_event_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"no event with id 'kakao_apolgy'; did you mean 'kakao_apology'\?"):
        load_config(KOREA, {"events.kakao_apolgy.day": 17})


def test_event_parameter_that_does_not_apply_to_its_kind():
    with pytest.raises(ConfigError, match=r"key 'events.announcement.credibility' .*does not apply"):
        small_scenario(events=[{"day": 2, "kind": "announcement", "credibility": 0.3}])


def test_event_kind_typo_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"did you mean 'revelation'\?"):
        small_scenario(events=[{"day": 2, "kind": "revelaton"}])


def test_localisation_needs_a_rival_platform():
    with pytest.raises(ConfigError, match=r"events.localisation.platform.*expected a rival"):
        small_scenario(events=[{"day": 2, "kind": "localisation", "platform": "incumbent"}])


def test_duplicate_event_ids_are_refused():
    with pytest.raises(ConfigError, match="event ids must be unique"):
        small_scenario(events=[{"day": 2, "kind": "announcement", "id": "a"},
                               {"day": 3, "kind": "revelation", "id": "a"}])


def test_distribution_bounds_are_checked():
    with pytest.raises(ConfigError, match=r"population.concern.*low .* must not exceed high"):
        small_scenario({"population.concern": {"dist": "uniform", "low": 0.8, "high": 0.2}})


def test_scenario_round_trips_through_to_dict():
    s = small_scenario()
    d = s.to_dict()
    assert d["platforms"]["incumbent"]["incumbent"] is True
    assert d["population"]["n"] == SMALL["population"]["n"]
    for path in sorted((ROOT / "experiments").glob("*_20[0-9][0-9].toml")):  # the episodes
        episode = sim.load_config(path)
        plain = json.loads(json.dumps(episode.to_dict()),
                           object_hook=lambda t: {k: v for k, v in t.items() if v is not None})
        again = build_scenario(plain, episode.source, base_dir=episode.base_dir)  # as a results folder reads it
        assert again == episode, path
        assert all(set(e) <= {"day", "kind", "id", "enabled", "note", *EVENT_KINDS[e["kind"]]}
                   for e in plain["events"])


def test_config_doc_lists_every_key():
    doc = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    assert config_reference() in doc, "docs/CONFIG.md is out of date: paste sim.config.config_reference()"


def test_more_than_fifteen_platforms_are_refused():
    data = copy.deepcopy(SMALL)
    data["platforms"] |= {f"r{i}": {} for i in range(13)}  # 16 platforms
    with pytest.raises(ConfigError, match="at most 15 platforms"):
        build_scenario(data, "test")
    del data["platforms"]["r12"]
    assert len(build_scenario(data, "test").platforms) == 15
