"""The compiled kernels: both engines call the very same rule functions (no formula is duplicated), every
kernel module is known to the cache, and compiled code is cached outside the package."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from sim import jit, rules

#: Each rule, and a change of it that must change both engines' trajectories alike (run with
#: NUMBA_DISABLE_JIT=1, so that replacing a function in sim.rules replaces it for every caller).
PERTURBED = {
    "alarm_after_news": "lambda r, intensity: orig(r, intensity * 0.5)",
    "alarm_after_calming_news": "lambda r, credibility: orig(r, min(1.0, credibility * 2.0))",
    "word_of_mouth": "lambda r, fresh, degree, mu: orig(r, fresh, degree, min(1.0, mu * 1.8))",
    "forget": "lambda r, rest, delta: orig(r, rest, delta * 3.0)",
    "contact_share": "lambda count, degree: orig(count, degree) * 0.5",
    "logistic": "lambda x, tau: orig(x + 0.05, tau)",
    "chance": "lambda u, rate, x, tau: orig(u * 0.8, rate, x, tau)",
    "use_value": "lambda *a: orig(*a) - 0.2",
    "switching_gap": "lambda *a: orig(*a) + 0.05",
    "outage_push": "lambda disruption, primary, incumbent: orig(disruption * 3.0, primary, incumbent)",
    "choose_primary": "lambda b, primary, *a: primary if (a[-1] >> primary) & 1 else orig(b, primary, *a)",
    "ppm": "lambda *a: orig(*a[:-1], a[-1] + 0.3)",
    "decide": "lambda *a: orig(*a[:4], a[4] * 0.5, *a[5:])",
    "daily_alarm": "lambda b, concern, r, *a: orig(b, concern, r * 0.9, *a)",
    "keeps_platforms": "lambda rule, b, u, uses, primary: orig(rule, b, u * 1.5, uses, primary)",
    "effective_alarm": "lambda r, s: orig(r, s) * 0.8",
}

SCRIPT = r"""
import copy, json, sys
sys.path.insert(0, "tests")
import sim
from sim import rules
from test_engines import ALL_EVENTS, scenario

s = scenario({"population.n": 150, "experiment.steps": 18, "behaviour.tau": 0.1, "behaviour.lam": 0.4,
              "behaviour.lam_drop": 0.3, "behaviour.lam_exit": 0.2, "behaviour.exit_level": 0.9})
if sys.argv[2] == "array-has-its-own-copy":  # a deliberately broken model, to show the check can fail
    import inspect, types
    from sim import loops
    loops.rules = types.ModuleType("copy_of_rules")
    exec(inspect.getsource(rules), loops.rules.__dict__)
def run():
    return {e: sim.simulate(s, 3, e).drop(columns="day").to_numpy().tolist() for e in ("mesa", "array")}
baseline = run()
assert baseline["mesa"] == baseline["array"]
out = {}
for name, change in json.loads(sys.argv[1]).items():
    orig = getattr(rules, name)
    setattr(rules, name, eval(change, {"orig": orig}))
    try:
        got = run()
    finally:
        setattr(rules, name, orig)
    out[name] = {"changed": got["array"] != baseline["array"], "engines_agree": got["mesa"] == got["array"]}
print(json.dumps(out))
"""


def perturb_each_rule(model: str = "as built") -> dict[str, dict[str, bool]]:
    """For each rule, whether changing it changes the array engine's trajectory and whether the engines still
    agree (run as Python, NUMBA_DISABLE_JIT=1, so that replacing a function replaces it for every caller)."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(PERTURBED), model], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True, timeout=600).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_both_engines_call_the_same_rule_functions():
    """Change one rule function at a time: both engines' trajectories change, and change alike. An engine
    with a copy of a formula of its own would keep its old trajectory and part from the other."""
    result = perturb_each_rule()
    assert set(result) == set(PERTURBED)
    for name, r in result.items():
        assert r["changed"], f"changing rules.{name} changed nothing"
        assert r["engines_agree"], f"the engines part when rules.{name} changes: one has its own copy"


def test_the_check_sees_an_engine_with_a_copy_of_the_rules():
    result = perturb_each_rule("array-has-its-own-copy")
    assert not any(r["changed"] for r in result.values())  # the array engine no longer sees the changes ...
    assert not any(r["engines_agree"] for r in result.values())  # ... so the engines part


def test_every_rule_is_tested_for_being_shared():
    compiled = set(re.findall(r"^(\w+) = jit\(", (ROOT / "sim" / "rules.py").read_text(), re.M))
    assert compiled == set(PERTURBED) | {"uses_platform", "threshold", "bass", "user_day"}
    # threshold and bass are the validation rules (tests/test_validation_theory.py runs them on both
    # engines); uses_platform reads a bit; user_day is the Mesa agent's one call to daily_alarm,
    # keeps_platforms and decide (each checked above; tests/test_rules.py checks that it is only that)


def test_the_kernel_modules_are_those_that_compile():
    compiling = {p.name for p in (ROOT / "sim").glob("*.py") if re.search(r"^\w+ = jit\(", p.read_text(), re.M)}
    assert compiling == set(jit.KERNEL_MODULES)


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="kernels run as Python")
def test_kernels_are_cached_in_the_users_cache_folder_not_the_package():
    rules.forget(0.5, 0.1, 0.1)
    cache = Path(rules.forget._cache._cache_path)
    assert cache.is_relative_to(jit.cache_dir()) and not cache.is_relative_to(ROOT / "sim")
    assert jit.cache_dir().name == jit.source_digest()


def test_an_edit_of_any_kernel_module_gives_a_new_cache_folder(tmp_path):
    for name in jit.KERNEL_MODULES:
        shutil.copy(ROOT / "sim" / name, tmp_path / name)
    before = jit.source_digest(tmp_path)
    assert before == jit.source_digest()
    with open(tmp_path / jit.KERNEL_MODULES[-1], "a") as fh:
        fh.write("\n# an edit\n")
    assert jit.source_digest(tmp_path) != before


RUN = """
import hashlib, sim
s = sim.load_config("experiments/korea_2014.toml", {"population.n": 800, "experiment.steps": 12})
print(hashlib.sha256(sim.simulate(s, 1, "array").to_csv().encode()).hexdigest())
"""


@pytest.mark.slow
def test_two_processes_compiling_into_a_fresh_cache_at_once_agree(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"} | {"XDG_CACHE_HOME": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", RUN], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs) and outputs[0] == outputs[1]
    assert list((tmp_path / "cyber-exile" / "numba").rglob("*.nbi"))
    again = subprocess.run([sys.executable, "-c", RUN], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=True)
    assert again.stdout.strip() == outputs[0]
