"""A file that holds only optimizers (no layer, network or training loop to compare gradients
of) is stepped on made-up arrays, whether its update moves a dict of arrays in place or takes one
array and its gradient and returns the new array (`update(w, grad_wrt_w)`, one optimizer made for
each weight, as ML-from-scratch libraries write them): an Adam whose bias corrections leave out
the update count leads the report's first line at the correction, once, with the fix, and a
correct one is clean rather than "nothing was checked"."""

import pytest

from tests.userfiles import check, line_of, planted

# an optimizer module of the kind ML-from-scratch libraries keep: update(w, grad) returns the new w
RETURNS_NEW = """
    import numpy as np


    class SGD:
        def __init__(self, learning_rate=0.01):
            self.learning_rate = learning_rate

        def update(self, w, grad_wrt_w):
            return w - self.learning_rate * grad_wrt_w


    class Adam:
        def __init__(self, learning_rate=0.001, b1=0.9, b2=0.999):
            self.learning_rate = learning_rate
            self.eps = 1e-8
            self.m = None
            self.v = None
            self.b1, self.b2 = b1, b2
            self.t = 0

        def update(self, w, grad_wrt_w):
            if self.m is None:
                self.m = np.zeros(np.shape(grad_wrt_w))
                self.v = np.zeros(np.shape(grad_wrt_w))
            self.t += 1
            self.m = self.b1 * self.m + (1 - self.b1) * grad_wrt_w
            self.v = self.b2 * self.v + (1 - self.b2) * np.power(grad_wrt_w, 2)
            m_hat = self.m / (1 - self.b1 ** self.t)
            v_hat = self.v / (1 - self.b2 ** self.t)
            return w - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)
"""

# the book's optimizer style: update(params, grads) moves the dict's arrays in place
IN_PLACE = """
    import numpy as np


    class Momentum:
        def __init__(self, lr=0.01, momentum=0.9):
            self.lr, self.momentum, self.v = lr, momentum, None

        def update(self, params, grads):
            if self.v is None:
                self.v = {key: np.zeros_like(val) for key, val in params.items()}
            for key in params:
                self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
                params[key] += self.v[key]


    class Adam:
        def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
            self.lr, self.beta1, self.beta2 = lr, beta1, beta2
            self.t = 0
            self.m, self.v = {}, {}

        def update(self, params, grads):
            self.t += 1
            for key in params:
                if key not in self.m:
                    self.m[key] = np.zeros_like(params[key])
                    self.v[key] = np.zeros_like(params[key])
                self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]
                self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grads[key] ** 2
                m_hat = self.m[key] / (1 - self.beta1 ** self.t)
                v_hat = self.v[key] / (1 - self.beta2 ** self.t)
                params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
"""

CASES = [
    pytest.param(RETURNS_NEW, "m_hat = self.m / (1 - self.b1 ** self.t)", "m_hat = self.m / (1 - self.b1)", id="returns-new-w"),
    pytest.param(IN_PLACE, "m_hat = self.m[key] / (1 - self.beta1 ** self.t)", "m_hat = self.m[key] / (1 - self.beta1)", id="in-place-dict"),
]


@pytest.mark.parametrize(("source", "correct", "wrong"), CASES)
def test_a_wrong_step_in_an_optimizer_only_file_leads_the_verdict(tmp_path, source, correct, wrong):
    path = planted(tmp_path, "optimizers.py", source, correct, wrong)
    report = check(path)
    verdict = report["verdict"]
    assert verdict.startswith("! ") and "2 optimizers stepped on made-up arrays" in verdict, verdict
    (adam,) = [f for f in report["findings"] if f["code"] == "BPD208"]  # one finding, not one a statement
    assert adam["line"] == line_of(path, wrong), adam
    assert f"line {adam['line']}" in verdict, verdict
    assert [f["code"] for f in report["findings"] if f["severity"] == "error"] == []


@pytest.mark.parametrize(("source", "correct", "wrong"), CASES)
def test_a_correct_optimizer_only_file_is_stepped_and_clean(tmp_path, source, correct, wrong):
    path = planted(tmp_path, "optimizers.py", source, correct, correct)
    report = check(path)
    assert report["verdict"].startswith("✓ ") and "no problems found in 2 optimizers" in report["verdict"], report["verdict"]
    assert [b["how"] for b in report["built"] if "Adam" in b["what"]], report["built"]
    assert not [f for f in report["findings"] if f["severity"] in ("error", "warning")]
