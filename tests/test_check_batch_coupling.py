"""batch-coupling (BPD302): one sample's output or gradient depends on another sample.

Real files go through `pipeline.check_file`; the probes are tested on plain
functions; one test drives `run(context)` directly to show that the user's
arrays and NumPy's global random state come out untouched.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from backprop_doctor import build, probes
from backprop_doctor.checks import batch_coupling
from backprop_doctor.context import CheckContext
from backprop_doctor.options import Options

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SEED = ROOT.parent / "shared" / "seed" / "two_layer_net_question.py"
RULE = "batch-coupling"


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def diagnose(path: Path, **options):
    from backprop_doctor.pipeline import check_file

    report = check_file(path, Options(training=False, **options))
    problems = [f for f in report.findings if f.name in ("syntax-error", "load-error", "nothing-to-check")]
    assert not problems and "internal_errors" not in report.extras, (problems, report.extras.get("internal_errors"))
    return report


def write(folder: Path, *parts: str, name: str = "net.py") -> Path:
    path = folder / name
    path.write_text("\n".join(textwrap.dedent(part) for part in parts), encoding="utf-8")
    return path


def only(report, name: str = RULE):
    found = report.by_name(name)
    assert len(found) == 1, [(f.name, f.layer, f.line) for f in report.findings]
    return found[0]


# --------------------------------------------------------------------------- samples


def test_reports_the_whole_batch_mean_of_the_center_layer():
    finding = only(diagnose(SAMPLES / "batch_coupled.py"))
    assert finding.severity == "error"
    assert (finding.layer, finding.line, finding.highlight) == ("Center", 14, (14,))
    assert "`np.mean(x)`" in finding.message and "`Center.forward`" in finding.message
    assert finding.measured > 1e-3 and finding.threshold == 1e-9
    assert finding.fix == "self.out = x - np.mean(x, axis=1, keepdims=True)"
    assert "in `CenteredNet` (layer `Center1`)" in dict(finding.evidence)["coupling"]


def test_loss_layer_of_the_seed_points_at_the_softmax_that_couples_it():
    if not SEED.exists():
        pytest.skip(f"seed file {SEED} is absent")
    report = diagnose(SEED)
    finding = only(report)
    assert finding.layer == "SoftmaxWithLoss"
    assert (finding.line, finding.highlight) == (16, (14, 16))
    assert "row i of dx must depend on sample i alone" in finding.message
    assert finding.caused_by == report.root_cause.key() and report.root_cause.name == "softmax-not-per-row"


@pytest.mark.parametrize(
    "sample",
    [
        "two_layer_net_fixed.py",
        "cs231n_layers.py",  # batchnorm_forward is checked in mode='test'
        "batchnorm_dropout_fixed.py",  # BatchNormalization is checked with train_flg=False, Dropout reseeded
        "dlfs2_style.py",
        "multilayer_relu_fixed.py",
        "unshared_params.py",
    ],
)
def test_correct_layers_are_not_coupled(sample):
    assert diagnose(SAMPLES / sample).by_name(RULE) == []


# --------------------------------------------------------------------------- buggy and correct pairs

NORMALIZE = """\
import numpy as np


class Normalize:
    def forward(self, x):
        self.x = x
        self.s = np.sum(x ** 2{axis})
        return x / np.sqrt(self.s)

    def backward(self, dout):
        return dout / np.sqrt(self.s)
"""


def test_reports_a_standalone_layer_that_sums_over_the_batch(tmp_path):
    finding = only(diagnose(write(tmp_path, NORMALIZE.format(axis=""))))
    assert (finding.layer, finding.line) == ("Normalize", 7)
    assert finding.fix == "self.s = np.sum(x ** 2, axis=1, keepdims=True)"
    assert "on a batch of 5" in dict(finding.evidence)["coupling"]


def test_per_sample_counterpart_is_not_coupled(tmp_path):
    assert diagnose(write(tmp_path, NORMALIZE.format(axis=", axis=1, keepdims=True"))).by_name(RULE) == []


def test_reports_a_backward_that_mixes_the_samples(tmp_path):
    path = write(
        tmp_path,
        """\
        import numpy as np


        class Scale:
            def forward(self, x):
                return 2.0 * x

            def backward(self, dout):
                dx = 2.0 * (dout - np.mean(dout))
                return dx
        """,
    )
    finding = only(diagnose(path))
    assert (finding.layer, finding.line) == ("Scale", 9)
    assert "`Scale.backward`" in finding.message and "forward keeps the samples apart" in finding.message


def test_batch_norm_without_a_train_flag_is_skipped_with_a_note(tmp_path):
    path = write(
        tmp_path,
        """\
        import numpy as np


        class BatchNorm:
            def __init__(self, gamma, beta):
                self.gamma, self.beta = gamma, beta

            def forward(self, x):
                self.mu = x.mean(axis=0)
                self.std = np.sqrt(x.var(axis=0) + 1e-7)
                self.xn = (x - self.mu) / self.std
                return self.gamma * self.xn + self.beta

            def backward(self, dout):
                n = dout.shape[0]
                self.dbeta = dout.sum(axis=0)
                self.dgamma = np.sum(self.xn * dout, axis=0)
                dxn = self.gamma * dout
                return (dxn - dxn.mean(axis=0) - self.xn * np.mean(dxn * self.xn, axis=0)) / self.std
        """,
    )
    finding = only(diagnose(path))
    assert finding.severity == "info" and finding.layer == "BatchNorm"
    assert finding.line == 8 and "train_flg" in finding.fix


# --------------------------------------------------------------------------- the user's objects stay untouched


class Leaky:
    """Mixes the batch and keeps state, to see that probing never writes to the original."""

    def __init__(self):
        self.W = np.arange(12.0).reshape(4, 3)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        self.x = x
        return x.dot(self.W) - np.mean(x.dot(self.W)) + np.random.rand()

    def backward(self, dout):
        self.W += 1.0  # a bad habit, on a copy
        return dout.dot(self.W.T)


def test_probing_leaves_the_users_layer_and_random_state_alone():
    layer = Leaky()
    before = layer.W.copy()
    x = np.random.default_rng(1).standard_normal((5, 4))
    x_before = x.copy()
    context = CheckContext(options=Options(), layers=[build.Built("Leaky", layer, "Leaky()", [("x (5, 4)", x, None)])])
    np.random.seed(123)
    state = np.random.get_state()
    findings = list(batch_coupling.run(context))
    assert [f.layer for f in findings] == ["Leaky"]
    assert np.array_equal(layer.W, before) and layer.calls == 0 and not hasattr(layer, "x")
    assert np.array_equal(x, x_before)
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2:] == after[2:]


# --------------------------------------------------------------------------- probes


def test_output_coupling_is_zero_for_row_wise_functions_and_names_the_pair_otherwise():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    assert probes.output_coupling(np.tanh, x, rng).measured == 0.0
    coupled = probes.output_coupling(lambda a: a - a.mean(), x, rng)
    assert coupled.measured > 1e-3 and coupled.source != coupled.affected
    only_last = probes.output_coupling(lambda a: a + a[-1].sum(), x, rng)  # every row reads sample 4
    assert only_last.source == 4


def test_output_coupling_needs_a_batch_axis():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    assert probes.output_coupling(lambda a: a.sum(axis=0), x, rng) is None
    assert probes.output_coupling(np.tanh, x[:1], rng) is None


def test_gradient_coupling_measures_dx_outside_the_sample_that_had_a_gradient():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))
    assert probes.gradient_coupling(lambda a, dout: 3.0 * dout, x, x.shape, rng).measured == 0.0
    leak = probes.gradient_coupling(lambda a, dout: dout - dout.mean(axis=0), x, x.shape, rng)
    assert leak.measured == pytest.approx(1 / 3)  # dout[i] - dout[i]/4 against -dout[i]/4
