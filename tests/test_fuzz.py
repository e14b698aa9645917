"""A bounded, seeded fuzz run of the real CLI (the full campaign is `python benchmarks/fuzz.py -n 2000`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_fuzz():
    spec = importlib.util.spec_from_file_location("bpd_fuzz", ROOT / "benchmarks" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_mutated_user_files_keep_the_contract():
    fuzz = load_fuzz()
    outcomes = fuzz.campaign(12, seed=0, jobs=2)
    assert len(outcomes) == 12
    broken = [(o.name, o.mutation, o.problems) for o in outcomes if o.problems]
    assert broken == [], fuzz.summary(outcomes)


def test_the_judge_sees_a_broken_contract(tmp_path):
    """The harness itself must fail a run that prints a traceback or is not JSON."""
    fuzz = load_fuzz()
    outcome = fuzz.run_mutant("not_python.py", "def f(:\n", "by hand")
    assert outcome.status == 1 and outcome.problems == []  # a syntax error is a finding, not a crash
    assert fuzz.summary([outcome, fuzz.Outcome("x.py", "by hand", 2, 0.1, ["stdout is not JSON"])]).count("contract broken: 1") == 1
