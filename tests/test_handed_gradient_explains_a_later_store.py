"""A replay's wrong adjoint handed on at one line (`dh1 = dropout_backward(dh1, mask2)`, the other layer's
mask), the first wrong one from the loss backwards, whose evidence shows the update of `W1` wrong, comes before
the layer check's `W1` measured wrong only by a factor (`scaled`, `sign-flipped`) at a later line of the same
function (the store `grads[k] += reg * W`): that adjoint is what `W1`'s gradient is computed from. Not when the
replay measured `W1`'s update right, nor when its adjoint comes after the store."""

from __future__ import annotations

from backprop_doctor.findings import Finding, Report
from backprop_doctor.ranking import rank
from tests.userfiles import line_of, write

FUNCTIONS = """
    import numpy as np


    def model_loss(params, X, y, masks):
        h1 = np.maximum(X @ params["W1"], 0) * masks[0]
        h2 = np.maximum(h1 @ params["W2"], 0) * masks[1]
        scores = h2 @ params["W3"]
        loss = 0.5 * np.sum((scores - y) ** 2) / len(y)
        dscores = (scores - y) / len(y)
        grads = {"W3": h2.T @ dscores}
        dh2 = dscores @ params["W3"].T * masks[1] * (h2 > 0)
        grads["W2"] = h1.T @ dh2
        dh1 = dh2 @ params["W2"].T * masks[1] * (h1 > 0)
        grads["W1"] = X.T @ dh1
        for name in grads:
            grads[name] += 1e-3 * params[name]
        return loss, grads
"""

CLASS = """
    import numpy as np


    class Net:
        def __init__(self):
            self.W1, self.W2 = np.ones((4, 5)), np.ones((5, 2))

        def loss(self, X, y, keep):
            z = X @ self.W1
            h = np.maximum(z, 0) * keep[0]
            out = h @ self.W2
            dout = (out - y) / len(y)
            self.dW2 = h.T @ dout
            dh = dout @ self.W2.T * keep[1]
            dz = dh * (z > 0)
            self.dW1 = X.T @ dz
            self.dW1 += 1e-3 * self.W1
            return 0.5 * np.sum((out - y) ** 2) / len(y)
"""


def _findings(path, handed: str, store: str, layer: str, label: str, verdict: str = "wrong") -> tuple[Finding, Finding]:
    mismatch = Finding(
        "gradient-mismatch", "BPD101", "error", "the gradient of W1 is wrong, it is -2.5e-07 × the numerical gradient",
        layer=layer, param="W1", file=str(path), line=line_of(path, store), pattern="scaled",
    )  # fmt: skip
    step = Finding(
        "step-gradient-mismatch", "BPD108", "error", "the handed gradient is not the gradient of the loss",
        param="dh1", file=str(path), line=line_of(path, handed), pattern="wrong-derivative",
        evidence=(("replayed", "your first training step"), (label, f"{verdict}: d loss along the update: numerical 3.3, yours 3.4")),
    )  # fmt: skip
    return mismatch, step


def test_a_dict_of_parameters_wrong_handed_gradient_is_the_root_before_its_store(tmp_path):
    path = write(tmp_path, "net.py", FUNCTIONS)
    mismatch, step = _findings(path, "dh1 = dh2 @", "grads[name] += 1e-3", "model_loss", "params['W1']")
    ranked = rank(Report(findings=[mismatch, step]))
    assert ranked.root_cause == step
    assert ranked.findings[1].caused_by == step.key()


def test_a_class_s_wrong_handed_gradient_is_the_root_before_its_store(tmp_path):
    path = write(tmp_path, "net.py", CLASS)
    mismatch, step = _findings(path, "dh = dout @", "self.dW1 += 1e-3", "Net", "net.W1")
    ranked = rank(Report(findings=[mismatch, step]))
    assert ranked.root_cause == step


def test_the_store_stays_first_when_the_replay_measured_that_update_right(tmp_path):
    path = write(tmp_path, "net.py", CLASS)
    mismatch, step = _findings(path, "dh = dout @", "self.dW1 += 1e-3", "Net", "net.W1", verdict="ok")
    assert rank(Report(findings=[mismatch, step])).root_cause == mismatch


def test_the_store_stays_first_when_the_replay_names_another_parameter(tmp_path):
    path = write(tmp_path, "net.py", FUNCTIONS)
    mismatch, step = _findings(path, "dh1 = dh2 @", "grads[name] += 1e-3", "model_loss", "params['W2']")
    assert rank(Report(findings=[mismatch, step])).root_cause == mismatch


def test_the_store_stays_first_when_the_adjoint_comes_after_it(tmp_path):
    path = write(tmp_path, "net.py", CLASS)
    mismatch, step = _findings(path, "self.dW1 += 1e-3", "self.dW1 = X.T @ dz", "Net", "net.W1")
    assert rank(Report(findings=[mismatch, step])).root_cause == mismatch
