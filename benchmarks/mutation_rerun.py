"""Mutation testing one module at a time: run mutmut with that module's tests, score it, re-run survivors.

Three modes (docs/TESTING.md, "Mutation testing"):

    # mutmut on one module, against the fast in-process tests that exercise it (SELECTIONS below),
    # one child at a time; prints the module's score at the end (--only 'x__check*': some functions)
    python benchmarks/mutation_rerun.py --mutmut backprop_doctor/ranking.py
    # (a module with no SELECTIONS entry: [tool.mutmut]'s selection, plus its EXTRA files)

    # the score of one module from mutmut's last run (mutants/<module>.meta)
    python benchmarks/mutation_rerun.py --score backprop_doctor/ranking.py

    # re-run that module's survivors against chosen tests (each survivor switched on through
    # mutmut's own trampoline, the MUTANT_UNDER_TEST environment variable, in a forked pytest)
    python benchmarks/mutation_rerun.py backprop_doctor/gradcheck.py -- tests/test_mutant_survivors.py

`--mutmut` narrows mutmut's configuration (`[tool.mutmut]` in pyproject.toml) for this run only:
`pytest_add_cli_args_test_selection` becomes the module's tests (`only_mutate` stays: mutmut
does not generate again a file it once copied unmutated). mutmut
keeps one cache in `mutants/` and resets every cached verdict when the test selection changes,
so a module's score is read right after its own run (`--score`), before the next module's.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The fast in-process tests that call each module's functions in the test process (mutmut only
# runs a mutant against tests that called its function there: CLI tests in a subprocess cannot
# kill anything). A module not listed falls back to [tool.mutmut]'s selection.
_CHECKS = "backprop_doctor/checks/"
SELECTIONS: dict[str, list[str]] = {
    "backprop_doctor/ranking.py": [
        "tests/test_ranking_order.py",
        "tests/test_mutant_survivors.py",
    ],
    "backprop_doctor/report/json_report.py": [
        "tests/test_json_report_document.py",
        "tests/test_mutant_survivors.py",
    ],
    "backprop_doctor/plugin_items.py": [
        "tests/test_plugin_items.py",
        "tests/test_mutant_survivors.py",
    ],
    _CHECKS + "loss_rises.py": ["tests/test_training_findings.py"],
    _CHECKS + "loss_diverges.py": ["tests/test_training_findings.py"],
    _CHECKS + "loss_stagnant.py": ["tests/test_training_findings.py"],
    _CHECKS + "learning_rate_too_high.py": ["tests/test_training_findings.py"],
    _CHECKS + "cannot_overfit.py": ["tests/test_training_findings.py"],
    _CHECKS + "dead_relu.py": ["tests/test_training_findings.py"],
    _CHECKS + "_training_words.py": ["tests/test_training_findings.py"],
    _CHECKS + "softmax_not_per_row.py": [
        "tests/test_check_softmax.py",
        "tests/test_check_softmax_layout.py",
        "tests/test_softmax_row_sums.py",
        "tests/test_softmax_finding_words.py",
        "tests/test_mutants_softmax_check.py",
        "tests/test_mutants_softmax_not_per_row_r12.py",
        "tests/test_mutants_softmax_not_per_row_r13.py",
    ],
    _CHECKS + "step_gradient_mismatch.py": [
        "tests/test_step_gradient_findings.py",
        "tests/test_mutants_step_gradient_check.py",
        "tests/test_mutants_step_gradient_r12.py",
        "tests/test_step_mismatch_named_causes_in_process.py",
    ],
    _CHECKS + "init_loss.py": [
        "tests/test_init_loss_findings.py",
        "tests/test_check_loss.py",
        "tests/test_mutants_init_loss_check.py",
    ],
    _CHECKS + "loss_not_mean.py": [
        "tests/test_loss_not_mean_findings.py",
        "tests/test_check_loss.py",
        "tests/test_mutants_loss_not_mean_check.py",
    ],
    _CHECKS + "gradient_mismatch.py": [
        "tests/test_gradient_mismatch_finding.py",
        "tests/test_fixes.py",
        "tests/test_mutants_gradient_mismatch_check.py",
        "tests/test_mutants_gradient_mismatch_more.py",
    ],
    _CHECKS + "update_climbs.py": [
        "tests/test_mutants_update_climbs_check.py",
        "tests/test_mutants_update_climbs_r12.py",
        "tests/test_mutants_update_climbs_r13.py",
    ],
    _CHECKS + "activation_forward_wrong.py": [
        "tests/test_mutants_activation_forward_check.py",
        "tests/test_mutants_activation_forward_more.py",
    ],
    _CHECKS + "scalar_backward_wrong.py": [
        "tests/test_mutants_scalar_backward_check.py",
        "tests/test_mutants_scalar_backward_more.py",
    ],
    _CHECKS + "bad_return.py": [
        "tests/test_mutants_bad_return_check.py",
        "tests/test_mutants_bad_return_more.py",
        "tests/test_mutants_bad_return_r12.py",
    ],
    _CHECKS + "step_update_lost.py": ["tests/test_mutants_step_update_lost_check.py", "tests/test_mutants_step_update_lost_more.py"],
    _CHECKS + "loss_sign_flipped.py": ["tests/test_mutants_loss_sign_flipped_check.py"],
    _CHECKS + "step_dead_relu.py": ["tests/test_mutants_step_training_checks.py"],
    _CHECKS + "symmetric_init.py": ["tests/test_mutants_step_training_checks.py", "tests/test_mutants_step_training_more.py"],
    _CHECKS + "step_rate_too_high.py": ["tests/test_mutants_step_training_checks.py", "tests/test_mutants_step_rate_too_high_r13.py"],
    _CHECKS + "targets_not_shuffled.py": ["tests/test_mutants_targets_not_shuffled.py"],
    _CHECKS + "step_rate_too_low.py": ["tests/test_mutants_step_training_checks.py", "tests/test_mutants_step_training_more.py"],
    _CHECKS + "step_penalty_mismatch.py": ["tests/test_mutants_step_training_checks.py", "tests/test_mutants_step_penalty_mismatch_r13.py"],
    _CHECKS + "non_finite.py": ["tests/test_mutants_non_finite_r12.py"],
    _CHECKS + "nonreentrant_backward.py": ["tests/test_mutants_nonreentrant_backward_r12.py", "tests/test_mutants_nonreentrant_backward_r13.py"],
    _CHECKS + "python2.py": ["tests/test_mutants_python2_r12.py"],
    _CHECKS + "layer_raised.py": ["tests/test_mutants_layer_raised_r12.py", "tests/test_layer_raised_rewordings_in_process.py", "tests/test_mutants_layer_raised_r15.py"],
    _CHECKS + "sandbox_blocked.py": ["tests/test_mutants_sandbox_blocked_r12.py"],
    _CHECKS + "synthetic_data.py": ["tests/test_mutants_synthetic_data_r12.py"],
    _CHECKS + "check_crashed.py": ["tests/test_check_crashed.py", "tests/test_mutants_check_crashed_r12.py"],
    _CHECKS + "misspelled_dunder.py": ["tests/test_misspelled_dunder.py", "tests/test_mutants_misspelled_dunder_r12.py"],
    _CHECKS + "step_non_finite.py": ["tests/test_mutants_step_non_finite_r12.py"],
    _CHECKS + "misspelled_method.py": ["tests/test_mutants_misspelled_method_r12.py"],
    _CHECKS + "imported_not_checked.py": ["tests/test_mutants_misspelled_method_r12.py"],
    _CHECKS + "gradient_shape_mismatch.py": ["tests/test_mutants_gradient_shape_mismatch_r13.py"],
    _CHECKS + "adam_step_wrong.py": ["tests/test_mutants_adam_step_wrong.py", "tests/test_mutants_adam_corrections.py"],
    _CHECKS + "momentum_not_kept.py": ["tests/test_mutants_momentum_not_kept.py"],
    _CHECKS + "grad_not_zeroed.py": ["tests/test_mutants_grad_not_zeroed.py"],
    _CHECKS + "batch_coupling.py": [
        "tests/test_check_batch_coupling.py",
        "tests/test_loss_layer_coupling.py",
        "tests/test_batch_coupling_of_functions.py",
        "tests/test_batch_coupling_without_a_reduction.py",
        "tests/test_batch_coupling_in_helper_files.py",
        "tests/test_batch_coupling_of_many_objects.py",
    ],
    _CHECKS + "unshared_parameter.py": [
        "tests/test_check_unshared.py",
        "tests/test_update_findings_name_their_file.py",
        "tests/test_unshared_parameter_findings.py",
        "tests/test_mutants_unshared_check.py",
    ],
}

# Files run besides [tool.mutmut]'s selection for a module with no SELECTIONS entry: the network
# checks' own in-process files reach the engine's network paths (deferred layers, the network's
# one-sided probes, the input it owns), at about two seconds a mutant; `test_engine_calls.py`
# counts the calls a lone layer's check makes of its code (the engine's cost-only mutants);
# `test_network_input_differences.py` the network's forward differences through its input.
EXTRA: dict[str, list[str]] = {
    "backprop_doctor/engine.py": [
        "tests/test_network_first_loss.py",
        "tests/test_layers_settled_by_the_network.py",
        "tests/test_readonly_handover.py",
        "tests/test_check_network_word_ids.py",
        "tests/test_engine_calls.py",
        "tests/test_network_input_differences.py",
    ],
}

# mutmut's exit codes (mutmut.stats.status_by_exit_code), grouped the way docs/TESTING.md reports them
_STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 36: "timeout",
           24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"}


def _meta(module: str) -> dict:
    return json.loads((ROOT / "mutants" / f"{module}.meta").read_text(encoding="utf-8"))


def survivors(module: str) -> list[str]:
    return sorted(k for k, code in _meta(module)["exit_code_by_key"].items() if code == 0)


def score(module: str, patterns: list[str] | None = None) -> str:
    codes = _meta(module)["exit_code_by_key"]
    if patterns:
        codes = {k: c for k, c in codes.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}
    counts = Counter(_STATUS.get(code, "suspicious") for code in codes.values())
    run = counts["killed"] + counts["survived"] + counts["timeout"]
    killed = counts["killed"] + counts["timeout"]  # mutmut counts a timeout as caught
    dotted = module.removesuffix(".py").replace("/", ".")
    by_function = Counter(k.rsplit("__mutmut_", 1)[0].removeprefix(dotted + ".") for k, c in codes.items() if c == 0)
    lines = [
        f"{module}: {len(codes)} mutants, killed {counts['killed']}, survived {counts['survived']}, "
        f"no tests {counts['no tests']}, timeouts {counts['timeout']}, not checked {counts['not checked']}"
        + (f", other {counts['suspicious']}" if counts["suspicious"] else ""),
        f"score: {killed} / {run} = {100 * killed / run:.1f} %" if run else "score: nothing run",
    ]
    if by_function:
        lines.append("survivors by function: " + ", ".join(f"{f} {n}" for f, n in by_function.most_common()))
    return "\n".join(lines)


def run_mutmut(module: str, tests: list[str] | None, children: int, only: list[str] | None = None) -> int:
    """`mutmut run` on one module against its own tests, in this process (`only`: some functions of it)."""
    os.chdir(ROOT)
    from mutmut import configuration
    from mutmut.__main__ import cli

    config = configuration._load_config()
    selection = tests or SELECTIONS.get(module) or config.pytest_add_cli_args_test_selection + EXTRA.get(module, [])
    config.pytest_add_cli_args_test_selection = list(selection)
    configuration._config = config
    dotted = module.removesuffix(".py").replace("/", ".")
    patterns = [f"{dotted}.{pattern}" for pattern in only] if only else [f"{dotted}.*"]
    print(f"mutmut run --max-children {children} {' '.join(patterns)} against "
          f"{' '.join(config.pytest_add_cli_args_test_selection)}", flush=True)
    try:
        cli(["run", "--max-children", str(children), *patterns], standalone_mode=False)
    except SystemExit as stop:
        if stop.code:
            return int(stop.code) if isinstance(stop.code, int) else 1
    print(score(module, patterns), flush=True)
    return 0


def run_one(name: str, tests: list[str]) -> int:
    pid = os.fork()
    if pid == 0:  # child: the mutated package first on the path, the mutant switched on
        try:
            os.environ["MUTANT_UNDER_TEST"] = name
            os.chdir(ROOT / "mutants")
            sys.path.insert(0, str(ROOT / "mutants"))
            sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            import pytest

            code = pytest.main(["-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *tests])
        except BaseException:
            code = 99
        os._exit(int(code))
    return pid


def rerun(module: str, tests: list[str], jobs: int, only: list[str] | None) -> int:
    # imported once here, before the forks (none of them imports backprop_doctor): each child then
    # only imports the mutated package and the tests
    import numpy  # noqa: F401
    import pytest  # noqa: F401

    # the tests as they are now: mutmut's copy in mutants/tests/ is from its last run
    shutil.copytree(ROOT / "tests", ROOT / "mutants" / "tests", dirs_exist_ok=True)
    names = survivors(module)
    if only:
        names = [n for n in names if any(fnmatch.fnmatch(n, pattern) for pattern in only)]
    running: dict[int, str] = {}
    alive, killed = [], 0
    queue = list(names)
    while queue or running:
        while queue and len(running) < jobs:
            name = queue.pop(0)
            running[run_one(name, tests)] = name
        pid, status = os.wait()
        name = running.pop(pid)
        if os.waitstatus_to_exitcode(status) == 0:
            alive.append(name)
            print(f"alive  {name}", flush=True)
        else:
            killed += 1
            print(f"killed {name}", flush=True)
    print(f"{len(names)} survivors re-run: {killed} now killed, {len(alive)} still alive")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("module", help="e.g. backprop_doctor/gradcheck.py")
    parser.add_argument("--mutmut", action="store_true", help="run mutmut on MODULE against its tests (SELECTIONS)")
    parser.add_argument("--score", action="store_true", help="print MODULE's score from mutmut's last run")
    parser.add_argument("--jobs", type=int, default=1, help="children at a time (mutmut's --max-children)")
    parser.add_argument("--only", action="append",
                        help="only survivors (with --mutmut: functions, e.g. 'x__check*') whose name matches this glob")
    parser.add_argument("tests", nargs="*", help="tests to run (with --mutmut: instead of SELECTIONS)")
    args = parser.parse_intermixed_args()
    if args.score:
        print(score(args.module))
        return 0
    if args.mutmut:
        return run_mutmut(args.module, args.tests, args.jobs, args.only)
    if not args.tests:
        parser.error("give the tests to re-run the survivors against (after --)")
    return rerun(args.module, args.tests, args.jobs, args.only)


if __name__ == "__main__":
    sys.exit(main())
