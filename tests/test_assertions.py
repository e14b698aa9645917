"""The assertion helpers: a gradient check that fails like numpy's assert_allclose."""

from __future__ import annotations

import re

import numpy as np
import pytest

from backprop_doctor.assertions import (
    assert_function_gradients,
    assert_layer_gradients,
    assert_network_gradients,
    failure_message,
)
from backprop_doctor.errors import GradientCheckError, UsageError
from backprop_doctor.findings import Finding, Report


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


class AffinePerSampleBias(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = dout  # one row per sample: the wrong shape
        return dx


def log_softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


class SoftmaxWithLossNoMean:
    """Cross-entropy averaged over the batch, but backward forgets the 1/N."""

    def forward(self, x, t):
        self.t, self.y = t, np.exp(log_softmax(x))
        return -np.sum(t * log_softmax(x)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t)


class SigmoidSlightlyOff:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return 1.001 * dout * self.out * (1 - self.out)


def affine(cls=Affine):
    rng = np.random.default_rng(0)
    return cls(rng.standard_normal((4, 3)), rng.standard_normal(3)), rng.standard_normal((5, 4))


def _line(message: str, prefix: str) -> str:
    return next(line for line in message.splitlines() if line.startswith(prefix))


def test_returns_the_report_of_a_correct_layer():
    report = assert_layer_gradients(*affine())
    assert report.ok
    assert {m.param: m.verdict for m in report.measurements} == {"x": "ok", "W": "ok", "b": "ok"}


def test_failure_reads_like_assert_allclose():
    with pytest.raises(GradientCheckError) as excinfo:
        assert_layer_gradients(*affine(AffineMeanBias))
    message = str(excinfo.value)
    lines = message.splitlines()
    assert isinstance(excinfo.value, AssertionError)
    assert lines[0] == "Gradients of `AffineMeanBias.b` are not equal to tolerance rtol=1e-05"
    assert lines[1] == ""
    assert "Error pattern: divided-by-batch-size" in lines
    assert "Mismatched elements: 3 / 3 (100%), all elements compared" in lines
    assert re.fullmatch(r"Worst element \(\d,\): numerical \S+, analytic \S+ \(rel\. error 0\.8\)", _line(message, "Worst element"))
    assert _line(message, "Max relative difference") == "Max relative difference: 0.8"
    assert _line(message, "Max absolute difference")
    assert lines[-1] == "seed: 0"
    assert excinfo.value.report.errors[0].name == "gradient-mismatch"


def test_worst_element_matches_the_true_gradient():
    # the loss layer's objective is its loss: the true dL/dx is (softmax(x) - t) / N
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3))
    t = np.eye(3)[[0, 2, 1, 1]]
    with pytest.raises(GradientCheckError) as excinfo:
        assert_layer_gradients(SoftmaxWithLossNoMean(), x, t)
    message = str(excinfo.value)
    found = re.search(r"Worst element \((\d+), (\d+)\): numerical (\S+), analytic (\S+) ", message)
    assert found, message
    i, j = int(found[1]), int(found[2])
    numerical, analytic = float(found[3].rstrip(",")), float(found[4].rstrip(","))
    true = (np.exp(log_softmax(x)) - t) / x.shape[0]
    assert numerical == pytest.approx(true[i, j], rel=1e-4)
    assert analytic == pytest.approx(4 * true[i, j], rel=1e-4)
    assert "Error pattern: scaled-by-batch-size" in message


def test_rtol_and_seed_reach_the_check():
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    with pytest.raises(GradientCheckError, match=r"rtol=1e-05") as excinfo:
        assert_layer_gradients(SigmoidSlightlyOff(), x, seed=4)
    assert str(excinfo.value).endswith("seed: 4")
    assert excinfo.value.report.seed == 4
    assert assert_layer_gradients(SigmoidSlightlyOff(), x, rtol=1e-2, seed=4).seed == 4


def test_names_other_errors_with_their_rule_and_evidence():
    with pytest.raises(GradientCheckError) as excinfo:
        assert_layer_gradients(*affine(AffinePerSampleBias))
    lines = str(excinfo.value).splitlines()
    assert lines[0] == "`AffinePerSampleBias.b`: gradient-shape-mismatch (BPD102)"
    assert "shapes: b: (3,)   gradient: (5, 3)" in lines


def test_checks_function_pairs():
    def forward(x, w, b):
        return x @ w + b, (x, w)

    def backward(dout, cache):
        x, w = cache
        return -(dout @ w.T), x.T @ dout, dout.sum(axis=0)

    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    with pytest.raises(GradientCheckError) as excinfo:
        assert_function_gradients(forward, backward, x, w, b)
    message = str(excinfo.value)
    assert message.startswith("Gradients of `forward.x` are not equal to tolerance rtol=1e-05")
    assert "Error pattern: sign-flipped" in message


class LinearNet:
    def __init__(self, scale=1.0):
        self.params = {"W": np.random.default_rng(1).standard_normal((4, 3))}
        self.scale = scale

    def loss(self, x, t):
        return float(0.5 * np.sum((x @ self.params["W"] - t) ** 2))

    def gradient(self, x, t):
        return {"W": self.scale * x.T @ (x @ self.params["W"] - t)}


def test_checks_networks():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    assert assert_network_gradients(LinearNet(), x, t).ok
    with pytest.raises(GradientCheckError) as excinfo:
        assert_network_gradients(LinearNet(scale=2.0), x, t)
    message = str(excinfo.value)
    assert message.startswith("Gradients of `LinearNet.W` are not equal to tolerance rtol=0.0001")
    assert "Worst element (" in message


def test_names_an_unknown_option():
    with pytest.raises(UsageError, match="rtoll"):
        assert_layer_gradients(*affine(), rtoll=1e-3)


def test_keeps_evidence_it_cannot_read():
    finding = Finding(
        "gradient-mismatch", "BPD101", "error", "The gradient of `W` of `Conv` is wrong.", layer="Conv", param="W",
        measured=0.3, threshold=1e-5, evidence=(("elements", "a new kind of line\nindex  numerical  analytic  rel. error\n(0, 0)  1.0  2.0  0.5"),),
    )
    message = failure_message(Report(findings=[finding], seed=2))
    assert message.splitlines()[0] == "Gradients of `Conv.W` are not equal to tolerance rtol=1e-05"
    assert "  a new kind of line" in message.splitlines()
    assert "Worst element (0, 0): numerical 1.0, analytic 2.0 (rel. error 0.5)" in message
    assert "Relative error (directional probe): 0.3" in message
    assert message.endswith("seed: 2")


def test_hides_its_own_frames_from_pytest_tracebacks(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import numpy as np
        from backprop_doctor.assertions import assert_layer_gradients

        class Sigmoid:
            def forward(self, x):
                self.out = 1 / (1 + np.exp(-x))
                return self.out

            def backward(self, dout):
                return dout * (1.0 - self.out)

        def test_sigmoid():
            assert_layer_gradients(Sigmoid(), np.linspace(-1, 1, 6).reshape(2, 3))
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E * Gradients of `Sigmoid.x` are not equal to tolerance rtol=1e-05"])
    assert "backprop_doctor/assertions.py" not in result.stdout.str()
