"""In-process tests written against mutants that survived (docs/TESTING.md).

mutmut only sees the code a test runs in its own process, so these drive the numerics,
the ranking, the JSON report and the plugin's node ids directly, on values whose right
answer is known in closed form or written out by hand.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from backprop_doctor import gradcheck
from backprop_doctor.findings import Finding, Measurement, Report
from backprop_doctor.ranking import rank
from backprop_doctor.report.json_report import to_data, to_json


def cube(a: np.ndarray):
    """f(a) = sum(a**3) / 3, gradient a**2."""
    return lambda: float(np.sum(a**3) / 3)


# --------------------------------------------------------------------------- gradcheck: worst elements


def _elementwise(numerical, analytic, kinked=None, indices=None):
    numerical = np.asarray(numerical, dtype=float)
    return gradcheck.Elementwise(
        indices=np.arange(numerical.size) if indices is None else np.asarray(indices),
        numerical=numerical,
        analytic=np.asarray(analytic, dtype=float),
        kinked=np.zeros(numerical.size, bool) if kinked is None else np.asarray(kinked),
        full=indices is None,
    )


def test_worst_elements_come_worst_first_with_their_index_values_and_error():
    result = _elementwise([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 1.0, 1.5, 4.0, 1.1])
    worst = gradcheck.worst_elements(result, (2, 3), floor=1e-10, count=3)
    assert [w[0] for w in worst] == [(1, 1), (0, 1), (1, 0)]
    assert worst[0] == ((1, 1), 1.0, 4.0, pytest.approx(0.75))
    assert [w[3] for w in worst] == pytest.approx([0.75, 0.5, 1 / 3])


def test_worst_elements_leave_out_elements_at_a_kink_and_map_sampled_indices_to_the_shape():
    result = _elementwise([1.0, 1.0, 1.0], [3.0, 2.0, 1.0], kinked=[True, False, False], indices=[2, 7, 11])
    worst = gradcheck.worst_elements(result, (3, 4), floor=1e-10)
    assert worst == [((1, 3), 1.0, 2.0, pytest.approx(0.5)), ((2, 3), 1.0, 1.0, 0.0)]


def test_worst_elements_default_to_five():
    result = _elementwise(np.ones(8), np.arange(1.0, 9.0))
    assert len(gradcheck.worst_elements(result, (8,), floor=1e-10)) == 5


def test_the_elementwise_floor_is_the_largest_of_atol_the_size_and_the_rounding():
    result = _elementwise([2.0, -3.0], [2.0, -3.0])
    eps = np.finfo(np.float64).eps
    assert result.floor(0.0, 1e-6, 1e-3) == 1e-3  # atol wins
    assert result.floor(0.0, 1e-6, 1e-12) == pytest.approx(3e-8)  # 1e-8 of the largest derivative
    assert result.floor(1e6, 1e-6, 1e-12) == pytest.approx(1e6 * eps * 1e6 / 1e-6)  # the rounding of f ≈ 1e6
    assert _elementwise([1e-3], [1e-3]).floor(0.0, 1e-6, 1e-14) == pytest.approx(1e-11)  # small derivatives


# --------------------------------------------------------------------------- ranking: de-duplication


def _finding(name="gradient-mismatch", code="BPD101", severity="error", **fields):
    return Finding(name, code, severity, fields.pop("message", f"{name} here"), **fields)


def test_rank_drops_exact_duplicates_and_keeps_findings_that_differ_in_any_part_of_their_identity():
    base = dict(layer="Sigmoid", param="x", line=7)
    report = Report(
        findings=[
            _finding(**base),
            _finding(**base),  # the same finding from a second instance of the class
            _finding(layer="Sigmoid", param="x", line=8),
            _finding(layer="Tanh", param="x", line=7),
            _finding(layer="Sigmoid", param="W", line=7),
            _finding("input-mutated", "BPD201", **base),
            _finding(layer="Net", message="first"),  # no line: told apart by message
            _finding(layer="Net", message="first"),
            _finding(layer="Net", message="second"),
        ]
    )
    ranked = rank(report)
    assert len(ranked.findings) == 7
    identities = [(f.name, f.layer, f.param, f.line, f.message) for f in ranked.findings]
    assert len(set(identities)) == 7


def test_rank_makes_the_first_error_the_root_cause_and_links_its_symptoms():
    mismatch = _finding(layer="Sigmoid", param="x", line=7)
    rises = _finding("loss-rises", "BPD601", layer="Net")
    note = _finding("missing-module", "BPD003", "info", line=1)
    ranked = rank(Report(findings=[note, rises, mismatch]))
    assert [f.name for f in ranked.findings] == ["gradient-mismatch", "loss-rises", "missing-module"]
    assert ranked.root_cause == mismatch
    assert ranked.findings[1].caused_by == mismatch.key()
    assert ranked.findings[2].caused_by is None  # a note is not a symptom


# --------------------------------------------------------------------------- JSON summary


def _failing(file: str, *names: str) -> Report:
    return rank(Report(file=file, findings=[_finding(name, layer="Affine", line=3 + i, file=file) for i, name in enumerate(names)]))


def test_the_json_summary_counts_files_failing_files_and_severities_across_files():
    reports = [
        rank(Report(file="ok.py", measurements=[Measurement("Affine", "W", 1e-10, "ok")])),
        _failing("alice.py", "gradient-mismatch"),
        _failing("bob.py", "gradient-mismatch", "gradient-mismatch"),
        rank(Report(file="carol.py", findings=[_finding("nonreentrant-backward", "BPD203", "warning", layer="Affine")])),
    ]
    data = json.loads(to_json(reports))
    assert data["summary"] == {"files": 4, "failing": 2, "errors": 3, "warnings": 1, "info": 0}
    assert [f["ok"] for f in data["files"]] == [True, False, False, True]
    assert data["root_cause"]["file"] == "alice.py"  # the first failing file, not the first file
    assert data["files"][2]["root_cause"] == 0 and data["files"][0]["root_cause"] is None
    assert to_data(reports[1]) == to_data([reports[1]])  # one report or a list of one


# --------------------------------------------------------------------------- plugin: node ids

COLON_LOADER = '''
"""Stand-in for backprop_doctor.loading.child: a network whose layers are keyed with "::"."""
import sys
import types

from backprop_doctor.findings import Finding, Measurement, Report


def run_isolated(path, options):
    report = Report(seed=options.seed, file=path)
    report.measurements += [Measurement("Affine::1", p, 1e-10, "ok") for p in ("x", "W", "b")]
    report.measurements.append(Measurement("Tanh::1", "x", 0.5, "mismatch"))
    report.findings = [
        Finding("gradient-mismatch", "BPD101", "error", "the input gradient dx of `Tanh::1` is wrong",
                layer="Tanh::1", param="x", file=path, line=3),
        Finding("nonreentrant-backward", "BPD203", "warning", "calling `Affine::1.backward` twice differs",
                layer="Affine::1", file=path, line=2),
    ]
    report.root_cause = report.findings[0]
    return report


module = types.ModuleType("backprop_doctor.loading.child")
module.run_isolated = run_isolated
sys.modules["backprop_doctor.loading.child"] = module
'''


def test_double_colons_in_layer_labels_become_single_colons_in_node_ids(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(COLON_LOADER)
    (pytester.path / "net.py").write_text("x = 1\ny = 2\nz = 3\n")
    result = pytester.runpytest("--backprop-doctor", "net.py", "-v", "-p", "no:cacheprovider")
    ids = {r.nodeid: r.outcome for r in result.reprec.getreports("pytest_runtest_logreport") if r.when == "call"}
    assert ids == {
        "net.py::Tanh:1::gradient": "failed",
        "net.py::Affine:1::gradient": "passed",
        "net.py::Affine:1::nonreentrant-backward": "passed",
    }
    again = pytester.runpytest("--backprop-doctor", "net.py::Affine:1::gradient", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert [line for line in again.stdout.lines if "::" in line] == ["net.py::Affine:1::gradient"]


# --------------------------------------------------------------------------- gradcheck: naming a wrong gradient


def test_every_named_pattern_carries_its_exact_words():
    n = np.random.default_rng(5).standard_normal(30)
    assert gradcheck.name_pattern(np.zeros(30), n) == gradcheck.Pattern(
        "not-computed", "it is all zeros but the loss does depend on it", "compute it in backward instead of leaving zeros"
    )
    assert gradcheck.name_pattern(n, np.zeros(30)) == gradcheck.Pattern(
        "unused-in-forward",
        "the numerical gradient is zero, so changing this array does not change the output",
        "make forward compute with this very array (not a copy of it)",
    )
    assert gradcheck.name_pattern(-n, n) == gradcheck.Pattern(
        "sign-flipped", "its sign is flipped (analytic = −numerical)", "negate it", -1.0
    )
    assert gradcheck.name_pattern(5 * n, n, batch_size=5) == gradcheck.Pattern(
        "scaled-by-batch-size", "it is 5 × too large (5 is the batch size)", "divide it by the batch size", pytest.approx(5.0)
    )
    assert gradcheck.name_pattern(n / 5, n, batch_size=5) == gradcheck.Pattern(
        "divided-by-batch-size",
        "it is 5 × too small (5 is the batch size)",
        "remove the extra division by the batch size",
        pytest.approx(0.2),
    )
    assert gradcheck.name_pattern(2.5 * n, n, batch_size=5) == gradcheck.Pattern(
        "scaled", "it is 2.5 × the numerical gradient", "remove the constant factor 2.5", pytest.approx(2.5)
    )
    m = n[:12].reshape(3, 4)
    assert gradcheck.name_pattern(m.T.ravel(), m.ravel(), full_analytic=m.T, full_numerical=m) == gradcheck.Pattern(
        "transposed", "it is the transpose of the numerical gradient", "swap the operands of the matrix product"
    )


def test_zero_against_zero_has_no_pattern_and_tiny_gradients_are_still_named():
    assert gradcheck.name_pattern(np.zeros(6), np.zeros(6)) is None
    small = np.random.default_rng(1).standard_normal(6) * 1e-4  # norms far below 1
    assert gradcheck.name_pattern(np.zeros(6), small).name == "not-computed"
    assert gradcheck.name_pattern(small, np.zeros(6)).name == "unused-in-forward"
    large = small * 1e7  # norms far above 1: "zero" is relative to the other side
    assert gradcheck.name_pattern(large * 1e-13, large).name == "not-computed"
    assert gradcheck.name_pattern(large, large * 1e-13).name == "unused-in-forward"


def _full(a, n):
    return dict(full_analytic=a, full_numerical=n)


def test_a_transposed_rectangular_gradient_is_named_and_a_near_transpose_is_not():
    n = np.random.default_rng(2).standard_normal((3, 4))
    assert gradcheck.name_pattern(n.T.ravel(), n.ravel(), **_full(n.T, n)) == gradcheck.Pattern(
        "transposed", "it is the transpose of the numerical gradient", "swap the operands of the matrix product"
    )
    off = n.T * (1 + 1e-3 * np.random.default_rng(3).standard_normal((4, 3)))  # 0.1 % noise: beyond rtol 1e-4
    assert gradcheck.name_pattern(off.ravel(), n.ravel(), **_full(off, n)) is None


def test_many_wrong_columns_are_listed_up_to_eight_then_an_ellipsis():
    n = np.random.default_rng(4).standard_normal((3, 20)) + 3.0
    a = n.copy()
    a[:, :9] *= -2.0
    pattern = gradcheck.name_pattern(a.ravel(), n.ravel(), **_full(a, n))
    assert pattern == gradcheck.Pattern(
        "some-columns",
        "only 9 of 20 columns are wrong (column 0, 1, 2, 3, 4, 5, 6, 7 …)",
        "check how those columns are indexed or sliced",
    )
    a = n.copy()
    a[:, 3:11] *= -2.0  # exactly eight: no ellipsis
    assert gradcheck.name_pattern(a.ravel(), n.ravel(), **_full(a, n)).description == (
        "only 8 of 20 columns are wrong (column 3, 4, 5, 6, 7, 8, 9, 10)"
    )


def test_some_rows_means_at_most_half_of_them_and_the_good_rows_must_carry_gradient():
    n = np.random.default_rng(6).standard_normal((5, 3)) + 3.0
    a = n.copy()
    a[[1, 3]] *= -1.5  # two of five rows: at most half
    assert gradcheck.name_pattern(a.ravel(), n.ravel(), **_full(a, n)).description == "only 2 of 5 rows are wrong (row 1, 3)"
    a = n.copy()
    a[[0, 2, 4]] *= -1.5  # three of five: more than half
    assert gradcheck.name_pattern(a.ravel(), n.ravel(), **_full(a, n)) is None
    dead = n.copy()
    dead[2:] = 0.0  # the rows that agree are dead units: they prove nothing
    a = dead.copy()
    a[0] *= -1.5
    a[1] += 2.0  # no one factor
    assert gradcheck.name_pattern(a.ravel(), dead.ravel(), **_full(a, dead)) is None


def test_a_gradient_within_tolerance_has_no_pattern_even_with_the_full_arrays():
    n = np.random.default_rng(7).standard_normal((4, 3))
    a = n * (1 + 1e-7)
    assert gradcheck.name_pattern(a.ravel(), n.ravel(), **_full(a, n)) is None


def test_a_factor_near_the_batch_size_is_only_scaled():
    n = np.random.default_rng(8).standard_normal(20)
    assert gradcheck.name_pattern(5.05 * n, n, batch_size=5).name == "scaled"  # 1 % off the batch size
    assert gradcheck.name_pattern(n / 5.05, n, batch_size=5).name == "scaled"
    assert gradcheck.name_pattern(5 * n, n, batch_size=1).name == "scaled"  # a batch of one scales nothing


def test_the_floor_of_an_empty_comparison_is_atol_or_the_rounding():
    empty = _elementwise([], [])
    assert empty.floor(0.0, 1e-6, 1e-3) == 1e-3
    assert empty.floor(1e6, 1e-6, 1e-12) == pytest.approx(gradcheck.noise_floor(1e6, 1e-6))
