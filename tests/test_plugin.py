"""The pytest plugin, end to end in real pytest sessions (pytester).

The fixture and the marker run in-process; xdist and the import-cost check run in
subprocesses. Model-file collection is tested twice: against a stand-in
`run_isolated` that returns fixed reports (the node tree, names, outcomes,
diagnosis text) and against the real child-process loader on the sample files.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy  # noqa: F401  -- in-process pytester runs drop modules they import; numpy cannot load twice
import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


LAYERS = '''
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class AffineMeanBias(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = dout.sum(axis=0) / dout.shape[0]
        return dx


class SigmoidSlightlyOff:
    """dx is 0.1 % too large: wrong at rtol=1e-5, fine at rtol=1e-2."""

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return 1.001 * dout * self.out * (1 - self.out)


def affine(cls=Affine):
    rng = np.random.default_rng(0)
    return cls(rng.standard_normal((4, 3)), rng.standard_normal(3)), rng.standard_normal((5, 4))
'''


@pytest.fixture
def layers(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(bpd_layers=LAYERS)
    return pytester


# --------------------------------------------------------------------------- the plugin itself


def test_importing_the_plugin_loads_neither_numpy_nor_rich() -> None:
    code = (
        "import sys, backprop_doctor.plugin\n"
        "heavy = sorted(m for m in ('numpy', 'rich', 'hypothesis') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_prints_the_seed_in_the_header(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["backprop-doctor: seed 0"])
    result.assert_outcomes(passed=1)


def test_seed_and_rtol_come_from_the_command_line_over_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nbackprop_doctor_seed = 11\nbackprop_doctor_rtol = 0.01\n")
    pytester.makepyfile("def test_nothing(): pass")
    pytester.runpytest().stdout.fnmatch_lines(["backprop-doctor: seed 11, rtol 0.01"])
    pytester.runpytest("--backprop-doctor-seed=5").stdout.fnmatch_lines(["backprop-doctor: seed 5, rtol 0.01"])


def test_names_a_bad_rtol_on_the_command_line(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--backprop-doctor-rtol=-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--backprop-doctor-rtol: rtol='-1' must be a positive finite number*"])


def test_names_a_bad_seed_in_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nbackprop_doctor_seed = lucky\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*backprop_doctor_seed: seed='lucky' is not an integer*"])


def test_registers_its_marker_and_options(pytester: pytest.Pytester) -> None:
    pytester.runpytest("--markers").stdout.fnmatch_lines(["@pytest.mark.backprop_doctor(rtol=None, atol=None, seed=None*"])
    pytester.runpytest("--help").stdout.fnmatch_lines(
        ["backprop-doctor:*", "*--backprop-doctor *", "*--backprop-doctor-seed=SEED*", "*--backprop-doctor-rtol=RTOL*"]
    )


def test_p_no_backprop_doctor_turns_everything_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_uses_it(backprop_doctor): pass")
    result = pytester.runpytest("-p", "no:backprop_doctor")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'backprop_doctor' not found*"])
    result.stdout.no_fnmatch_line("backprop-doctor: seed*")

    result = pytester.runpytest("-p", "no:backprop_doctor", "--backprop-doctor", ".")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --backprop-doctor*"])


# --------------------------------------------------------------------------- the fixture


def test_fixture_passes_a_correct_layer_and_returns_its_report(layers: pytest.Pytester) -> None:
    layers.makepyfile(
        """
        from bpd_layers import affine

        def test_affine(backprop_doctor):
            report = backprop_doctor.check_layer(*affine())
            assert report.ok and report.seed == 0
            assert {m.param for m in report.measurements} == {"x", "W", "b"}
        """
    )
    layers.runpytest().assert_outcomes(passed=1)


def test_fixture_fails_a_buggy_layer_with_an_allclose_style_diagnosis(layers: pytest.Pytester) -> None:
    layers.makepyfile(
        """
        from bpd_layers import AffineMeanBias, affine

        def test_affine(backprop_doctor):
            backprop_doctor.check_layer(*affine(AffineMeanBias))
        """
    )
    result = layers.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * Gradients of `AffineMeanBias.b` are not equal to tolerance rtol=1e-05",
            "E *radient of `AffineMeanBias.b` is wrong, it is 5 × too small*",
            "E *Error pattern: divided-by-batch-size",
            "E *Mismatched elements: 3 / 3 (100%)*",
            "E *Worst element (?,): numerical *, analytic * (rel. error 0.8)",
            "E *Max absolute difference: *",
            "E *Max relative difference: 0.8",
            "E *at *bpd_layers.py:*",
            "E *seed: 0",
        ]
    )
    # the helpers hide their frames: the traceback shows the test, then the message
    output = result.stdout.str()
    assert "backprop_doctor/assertions.py" not in output
    assert "backprop_doctor/plugin.py" not in output


def test_marker_beats_command_line_and_ini(layers: pytest.Pytester) -> None:
    layers.makeini("[pytest]\nbackprop_doctor_seed = 1\n")
    layers.makepyfile(
        """
        import pytest
        from bpd_layers import SigmoidSlightlyOff
        import numpy as np

        X = np.linspace(-2, 2, 12).reshape(3, 4)

        def test_command_line_settings(backprop_doctor):
            assert backprop_doctor.seed == 3
            assert backprop_doctor.check_layer(SigmoidSlightlyOff(), X).seed == 3

        @pytest.mark.backprop_doctor(seed=7)
        def test_marker_seed(backprop_doctor):
            assert backprop_doctor.check_layer(SigmoidSlightlyOff(), X).seed == 7

        @pytest.mark.backprop_doctor(rtol=1e-6, seed=7)
        def test_marker_rtol_is_tighter(backprop_doctor):
            backprop_doctor.check_layer(SigmoidSlightlyOff(), X)
        """
    )
    result = layers.runpytest("--backprop-doctor-seed=3", "--backprop-doctor-rtol=1e-2")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*Gradients of `SigmoidSlightlyOff.x` are not equal to tolerance rtol=1e-06*", "E *seed: 7"])


def test_marker_on_a_class_applies_to_its_tests_and_a_closer_one_wins(layers: pytest.Pytester) -> None:
    layers.makepyfile(
        """
        import pytest
        from bpd_layers import SigmoidSlightlyOff
        import numpy as np

        X = np.linspace(-2, 2, 12).reshape(3, 4)

        @pytest.mark.backprop_doctor(rtol=1e-2, seed=4)
        class TestLoose:
            def test_class_marker(self, backprop_doctor):
                assert backprop_doctor.check_layer(SigmoidSlightlyOff(), X).seed == 4

            @pytest.mark.backprop_doctor(seed=5)
            def test_closer_marker(self, backprop_doctor):
                assert backprop_doctor.check_layer(SigmoidSlightlyOff(), X).seed == 5

        def test_default_is_strict(backprop_doctor):
            with pytest.raises(AssertionError, match="rtol=1e-05"):
                backprop_doctor.check_layer(SigmoidSlightlyOff(), X)
        """
    )
    layers.runpytest("--strict-markers").assert_outcomes(passed=3)


def test_marker_names_an_unknown_option(layers: pytest.Pytester) -> None:
    layers.makepyfile(
        """
        import pytest

        @pytest.mark.backprop_doctor(rtoll=1e-3)
        def test_typo(backprop_doctor):
            pass
        """
    )
    result = layers.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*UsageError: unknown option(s): rtoll*"])


def test_fixture_checks_function_pairs_and_networks(layers: pytest.Pytester) -> None:
    layers.makepyfile(
        """
        import numpy as np
        import pytest

        def affine_forward(x, w, b):
            return x @ w + b, (x, w)

        def affine_backward(dout, cache):
            x, w = cache
            return dout @ w.T, x.T @ dout, dout.sum(axis=0)

        class Net:
            def __init__(self):
                rng = np.random.default_rng(1)
                self.params = {"W": rng.standard_normal((4, 3))}

            def loss(self, x, t):
                return float(0.5 * np.sum((x @ self.params["W"] - t) ** 2))

            def gradient(self, x, t):
                return {"W": 2 * x.T @ (x @ self.params["W"] - t)}  # twice too large

        def test_pair(backprop_doctor):
            rng = np.random.default_rng(0)
            x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
            assert backprop_doctor.check_functions(affine_forward, affine_backward, x, w, b).ok

        def test_network(backprop_doctor):
            rng = np.random.default_rng(0)
            backprop_doctor.check_network(Net(), rng.standard_normal((5, 4)), rng.standard_normal((5, 3)))
        """
    )
    result = layers.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*Gradients of `Net.W` are not equal to tolerance rtol=0.0001*"])


# --------------------------------------------------------------------------- model files, stand-in loader

FAKE_LOADER = '''
"""Stand-in for backprop_doctor.loading.child: fixed reports by file name, every call logged."""
import os
import sys
import types

from backprop_doctor.findings import Finding, Measurement, Report

ELEMENTS = """Not equal to tolerance rtol=1e-05 (symmetric relative error, floor 1.0e-10)
Mismatched elements: 4 / 6 (67%), all elements compared
Max absolute difference: 0.25
Max relative difference: 0.5
index              numerical      analytic  rel. error
(1, 2)                   0.5          0.25         0.5"""


from backprop_doctor.loading.child import run_isolated as real_run_isolated


def run_isolated(path, options):
    name = os.path.basename(path)
    if name not in ("good.py", "buggy.py", "broken.py"):
        return real_run_isolated(path, options)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls.log"), "a") as log:
        log.write(f"{name} seed={options.seed} rtol={options.rtol}\\n")
    report = Report(seed=options.seed, file=path)
    if name == "good.py":
        report.measurements += [Measurement("Affine", p, 1e-10, "ok") for p in ("x", "W", "b")]
        report.measurements.append(Measurement("Relu", "x", 0.0, "ok"))
    elif name == "buggy.py":
        report.measurements.append(Measurement("Affine", "x", 1e-10, "ok"))
        report.measurements.append(Measurement("Sigmoid", "x", 0.5, "mismatch"))
        report.findings += [
            Finding("input-mutated", "BPD201", "error", "`Relu.forward` writes into its input.", layer="Relu", file=path, line=2),
            Finding("gradient-mismatch", "BPD101", "error", "The input gradient dx of `Sigmoid` is wrong.",
                    layer="Sigmoid", param="x", measured=0.5, threshold=1e-5, file=path, line=3,
                    pattern="scaled", evidence=(("pattern", "scaled"), ("elements", ELEMENTS))),
            Finding("nonreentrant-backward", "BPD203", "warning", "Calling `Affine.backward` twice differs.", layer="Affine"),
            Finding("loss-rises", "BPD601", "error", "The loss rises during training."),
        ]
        report.root_cause = report.findings[0]
    elif name == "broken.py":
        report.findings.append(Finding("syntax-error", "BPD001", "error", "invalid syntax: fix line 1.", file=path, line=1))
    return report


module = types.ModuleType("backprop_doctor.loading.child")
module.run_isolated = run_isolated
sys.modules["backprop_doctor.loading.child"] = module
'''

MODEL_FILES = {
    "good.py": "raise SystemExit('user code ran in the pytest process')\n",
    "buggy.py": "open('RAN', 'w').close()\nx = 1\ny = 2\n",
    "broken.py": "def oops(:\n",
}


@pytest.fixture
def students(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(FAKE_LOADER)
    folder = pytester.mkdir("students")
    for name, text in MODEL_FILES.items():
        (folder / name).write_text(text)
    return pytester


def _nodeids(result: pytest.RunResult, outcome: str) -> set[str]:
    return {r.nodeid for r in result.reprec.getreports("pytest_runtest_logreport") if r.when == "call" and r.outcome == outcome}


def test_collects_one_item_per_layer_and_check_without_running_the_files(students: pytest.Pytester) -> None:
    result = students.runpytest("--backprop-doctor", "students", "-v")
    assert _nodeids(result, "passed") == {
        "students/good.py::Affine::gradient",
        "students/good.py::Relu::gradient",
        "students/buggy.py::Affine::gradient",
        "students/buggy.py::Affine::nonreentrant-backward",
    }
    assert _nodeids(result, "failed") == {
        "students/broken.py::load",
        "students/buggy.py::Sigmoid::gradient",
        "students/buggy.py::Relu::input-mutated",
        "students/buggy.py::loss-rises",
    }
    assert not (students.path / "RAN").exists()
    calls = (students.path / "calls.log").read_text().splitlines()
    assert sorted(calls) == ["broken.py seed=0 rtol=None", "buggy.py seed=0 rtol=None", "good.py seed=0 rtol=None"]


def test_a_failed_item_shows_the_diagnosis_of_its_layer(students: pytest.Pytester) -> None:
    result = students.runpytest("--backprop-doctor", "students/buggy.py", "--backprop-doctor-seed=9")
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*_ students/buggy.py::Sigmoid::gradient (BPD101 gradient-mismatch) _*",
            "✗ students/buggy.py: *",
            "*BPD101 gradient-mismatch*Sigmoid.x*",
            "*The input gradient dx of `Sigmoid` is wrong.*",
            "*Mismatched elements: 4 / 6 (67%)*",
            "*Root cause in this file: BPD201 input-mutated in Relu*",
            "seed: 9 (rerun with --backprop-doctor-seed=9)",
        ]
    )
    result.stdout.fnmatch_lines(["FAILED students/buggy.py::Sigmoid::gradient - BPD101 gradient-mismatch*"])
    assert "backprop-doctor: seed 9, checking model files" in result.stdout.str()
    assert not (students.path / "RAN").exists()  # named on the command line, still not imported


def test_falls_back_to_a_plain_listing_without_the_renderer(students: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    from backprop_doctor import plugin

    def no_rich(report):
        raise ImportError("No module named 'rich'")

    monkeypatch.setattr(plugin, "_render", no_rich)
    result = students.runpytest("--backprop-doctor", "students/buggy.py")
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines(
        [
            "BPD101 gradient-mismatch [[]error] Sigmoid.x (*buggy.py:3): The input gradient dx of `Sigmoid` is wrong.",
            "    elements: Not equal to tolerance rtol=1e-05*",
            "Sigmoid.x: relative error 0.5 (mismatch)",
        ]
    )


def test_a_file_that_does_not_load_is_one_failed_load_item(students: pytest.Pytester) -> None:
    result = students.runpytest("--backprop-doctor", "students/broken.py", "--backprop-doctor-rtol=1e-3")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*_ students/broken.py::load (BPD001 syntax-error) _*", "*BPD001 syntax-error*", "*Invalid syntax: fix line 1.*"])
    assert (students.path / "calls.log").read_text() == "broken.py seed=0 rtol=0.001\n"


def test_a_package_of_model_files_is_not_imported(students: pytest.Pytester) -> None:
    (students.path / "students" / "__init__.py").write_text("open('RAN', 'w').close()\n")
    result = students.runpytest("--backprop-doctor", "students")
    result.assert_outcomes(passed=4, failed=4)
    assert not (students.path / "RAN").exists()


def test_without_the_flag_model_files_are_not_collected(students: pytest.Pytester) -> None:
    result = students.runpytest("students")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert not (students.path / "calls.log").exists()


def test_a_submission_named_like_a_test_is_checked_as_a_model_never_imported(students: pytest.Pytester) -> None:
    (students.path / "students" / "test_mine.py").write_text(
        "open('IMPORTED', 'w').close()\n\ndef test_mine():\n    pass\n"
    )
    result = students.runpytest("--backprop-doctor", "students")
    assert not (students.path / "IMPORTED").exists()
    assert "test_mine.py::test_mine" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*test_mine.py*"])


def test_xdist_gives_the_same_outcomes_as_one_process(students: pytest.Pytester) -> None:
    # the stand-in reports, and a sample through the real child-process loader
    (students.path / "models").mkdir()
    shutil.copy(SAMPLES / "sigmoid_backward_wrong.py", students.path / "models")
    single = students.runpytest("--backprop-doctor", "students", "models", "-p", "no:cacheprovider")
    double = students.runpytest_subprocess("--backprop-doctor", "students", "models", "-n", "2", "-p", "no:cacheprovider")
    outcomes = single.parseoutcomes()
    assert outcomes.get("passed", 0) >= 4 and outcomes.get("failed", 0) >= 4
    assert double.parseoutcomes() == outcomes


def test_xdist_workers_share_the_work_so_each_file_is_checked_once(students: pytest.Pytester) -> None:
    result = students.runpytest_subprocess("--backprop-doctor", "students", "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=4)
    calls = (students.path / "calls.log").read_text().splitlines()
    assert sorted(calls) == ["broken.py seed=0 rtol=None", "buggy.py seed=0 rtol=None", "good.py seed=0 rtol=None"]


# --------------------------------------------------------------------------- model files, real loader


@pytest.fixture
def samples(pytester: pytest.Pytester) -> pytest.Pytester:
    folder = pytester.mkdir("models")
    for name in ("two_layer_net_fixed.py", "two_layer_net_batch_softmax.py", "sigmoid_backward_wrong.py"):
        shutil.copy(SAMPLES / name, folder / name)
    return pytester


def test_reports_which_student_file_and_layer_failed(samples: pytest.Pytester) -> None:
    result = samples.runpytest("--backprop-doctor", "models", "-p", "no:cacheprovider")
    failed = _nodeids(result, "failed")
    passed = _nodeids(result, "passed")
    assert not any(n.startswith("models/two_layer_net_fixed.py::") for n in failed)
    assert "models/two_layer_net_fixed.py::SoftmaxWithLoss::gradient" in passed
    # one bug, one failed item: the root cause, with the wrong SoftmaxWithLoss gradient folded into it
    batch = sorted(n for n in failed if n.startswith("models/two_layer_net_batch_softmax.py::"))
    assert batch == ["models/two_layer_net_batch_softmax.py::softmax::softmax-not-per-row"]
    assert "models/two_layer_net_batch_softmax.py::SoftmaxWithLoss::gradient" not in passed
    result.stdout.fnmatch_lines(["*Symptoms explained by the root cause*", "*gradient-mismatch · SoftmaxWithLoss*"])
    assert any(n.startswith("models/sigmoid_backward_wrong.py::Sigmoid") and n.endswith("::gradient") for n in failed)
    result.stdout.fnmatch_lines(["*gradient-mismatch*Sigmoid*"])



def test_timeout_option_limits_each_model_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        hangs="""
        import numpy as np

        def load():
            while True:
                pass

        class Relu:
            dtype = load()

            def forward(self, x):
                return np.maximum(x, 0)

            def backward(self, dout):
                return dout
        """
    )
    result = pytester.runpytest_subprocess("--backprop-doctor", "hangs.py", "--backprop-doctor-timeout", "3")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*hangs.py::load*", "*BPD005 load-timeout*", "*after 3 s*"])


def test_model_file_mode_reads_tool_backprop_doctor_from_pyproject(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.backprop-doctor]\nseed = 7\nignore = ["BPD102"]\n')
    folder = pytester.mkdir("models")
    shutil.copy(SAMPLES / "bias_wrong_axis.py", folder / "bias_wrong_axis.py")
    result = pytester.runpytest_subprocess("--backprop-doctor", "models", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["backprop-doctor: seed 7*"])
    assert "gradient-shape-mismatch" not in result.stdout.str()


# --------------------------------------------------------------------------- teacher mode: one bug, one item

LESSON_LOADER = '''
"""Stand-in for backprop_doctor.loading.child: a ranked report of a student file with one bug."""
import os
import sys
import types

from backprop_doctor.findings import Finding, Measurement, Report


def run_isolated(path, options):
    report = Report(seed=options.seed, file=path)
    report.measurements += [Measurement("Affine1", p, 1e-10, "ok") for p in ("x", "W", "b")]
    report.measurements += [Measurement("SoftmaxWithLoss", "x", 0.2, "mismatch"), Measurement("TwoLayerNet", "W1", 0.3, "mismatch")]
    root = Finding("softmax-not-per-row", "BPD301", "error", "the softmax normalises across the whole batch (line 3): "
                   "sum over axis 1", layer="SoftmaxWithLoss.softmax", file=path, line=3)
    report.findings = [
        root,
        Finding("gradient-mismatch", "BPD101", "error", "the input gradient dx of `SoftmaxWithLoss` is wrong",
                layer="SoftmaxWithLoss", param="x", file=path, line=4, caused_by=root.key()),
        Finding("gradient-mismatch", "BPD101", "error", "the gradient of `TwoLayerNet.W1` is wrong",
                layer="TwoLayerNet", param="W1", file=path, line=5, caused_by=root.key()),
        Finding("loss-rises", "BPD601", "error", "the loss rises during training", layer="TwoLayerNet", caused_by=root.key()),
        Finding("misspelled-dunder", "BPD010", "warning", "`Relu.__init` is a misspelled `__init__` (line 2): rename it",
                layer="Relu", file=path, line=2),
        Finding("upstream-grad-mutated", "BPD202", "warning", "`Relu1.backward` writes into `dout`", layer="Relu1", file=path, line=6),
        Finding("missing-module", "BPD003", "info", "`dataset.mnist` is missing", file=path, line=1),
    ]
    report.root_cause = root
    return report


module = types.ModuleType("backprop_doctor.loading.child")
module.run_isolated = run_isolated
sys.modules["backprop_doctor.loading.child"] = module
'''


@pytest.fixture
def lesson(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(LESSON_LOADER)
    folder = pytester.mkdir("class")
    for name in ("alice_net.py", "bob_net.py"):
        (folder / name).write_text("import dataset.mnist\nclass Relu: pass\nx = 1\ny = 2\nz = 3\nw = 4\n")
    return pytester


def _printed_node_ids(output: str) -> list[str]:
    return re.findall(r"^(\S+::\S+) (?:PASSED|FAILED|ERROR)", output, re.MULTILINE)


def test_every_node_id_printed_by_v_can_be_pasted_back(lesson: pytest.Pytester) -> None:
    # a dotted layer name ("SoftmaxWithLoss.softmax") and a real sample file through the real loader too
    shutil.copy(SAMPLES / "two_layer_net_fixed.py", lesson.path / "class" / "two_layer_net_fixed.py")
    result = lesson.runpytest("--backprop-doctor", "class", "-v", "-p", "no:cacheprovider")
    printed = _printed_node_ids(result.stdout.str())
    assert len(printed) >= 8 and len(set(printed)) == len(printed)
    assert "class/alice_net.py::SoftmaxWithLoss.softmax::softmax-not-per-row" in printed
    assert not any("::py::" in n for n in printed)
    for node_id in printed:
        again = lesson.runpytest("--backprop-doctor", node_id, "--collect-only", "-q", "-p", "no:cacheprovider")
        selected = [line for line in again.stdout.lines if "::" in line]
        assert selected == [node_id]


def test_the_root_cause_is_the_one_failed_item_and_comes_first(lesson: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the short summary line whole
    # the plugin's own order: pytest-randomly, where installed, would shuffle the items
    result = lesson.runpytest("--backprop-doctor", "class/alice_net.py", "-v", "-p", "no:cacheprovider", "-p", "no:randomly")
    root = "class/alice_net.py::SoftmaxWithLoss.softmax::softmax-not-per-row"
    assert _nodeids(result, "failed") == {root}
    assert _printed_node_ids(result.stdout.str())[0] == root
    # the symptoms are folded into it, not items of their own
    assert _nodeids(result, "passed") == {
        "class/alice_net.py::load",
        "class/alice_net.py::Affine1::gradient",
        "class/alice_net.py::Relu::misspelled-dunder",
        "class/alice_net.py::Relu1::upstream-grad-mutated",
    }
    text = result.stdout.str()
    failure = text[text.index("_ " + root) :]
    first = failure.splitlines()[1]
    assert first.startswith("✗ class/alice_net.py:") and "softmax normalises across the whole batch" in first
    result.stdout.fnmatch_lines(
        [
            "*Symptoms explained by the root cause*",
            "*BPD101*gradient-mismatch · SoftmaxWithLoss.x line 4*",
            "*BPD101*gradient-mismatch · TwoLayerNet.W1 line 5*",
            "*BPD601*loss-rises · TwoLayerNet*",
        ]
    )
    result.stdout.fnmatch_lines([f"FAILED {root} - BPD301 softmax-not-per-row: *"])


def test_warnings_are_pytest_warnings_and_notes_stay_quiet(lesson: pytest.Pytester) -> None:
    result = lesson.runpytest("--backprop-doctor", "class/alice_net.py", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, passed=4, warnings=1)
    result.stdout.fnmatch_lines(
        ["*warnings summary*", "*alice_net.py:2: BackpropDoctorWarning: BPD010 misspelled-dunder · Relu: `Relu.__init`*"]
    )
    assert "BPD202" not in result.stdout.str().split("warnings summary")[1].split("short test summary")[0]


def _summary(result: pytest.RunResult) -> list[str]:
    lines = result.stdout.lines
    keep = [line for line in lines if line.startswith(("FAILED ", "PASSED ")) or "BackpropDoctorWarning" in line]
    return sorted(keep)


def test_xdist_prints_the_same_summary_with_the_finding_codes(lesson: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "240")  # short-summary lines whole, in both runs
    args = ("--backprop-doctor", "class", "-rA", "-p", "no:cacheprovider", "-p", "no:randomly")
    single = lesson.runpytest_subprocess(*args)
    double = lesson.runpytest_subprocess(*args, "-n", "2")
    assert single.parseoutcomes() == double.parseoutcomes()
    assert _summary(single) == _summary(double)
    assert any(line.startswith("FAILED class/bob_net.py::SoftmaxWithLoss.softmax::softmax-not-per-row - BPD301") for line in _summary(double))
