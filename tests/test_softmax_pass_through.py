"""A softmax layer whose backward hands its gradient on unchanged, because the network's loss gives
it ŷ − y (softmax and cross-entropy differentiated together): a warning that says when that is
right, not a gradient error. A softmax backward that computes something wrong is still an error."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = '''\
import numpy as np


class Softmax:
    def forward(self, scores):
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        self.out = e / e.sum(axis=1, keepdims=True)
        return self.out

    def backward(self, grad):
        """The cross-entropy below already gives the gradient of the scores."""
        return grad


class Dense:
    def __init__(self, n_in, n_out):
        self.W = np.random.default_rng(1).normal(size=(n_in, n_out)) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad):
        self.dW = self.x.T @ grad
        self.db = grad.sum(axis=0)
        return grad @ self.W.T
'''


def test_a_pass_through_softmax_backward_is_a_warning_at_its_return(tmp_path):
    path = write(tmp_path, "layers.py", LAYERS)
    report = check(path)
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["name"] == "gradient-mismatch"]
    assert (finding["severity"], finding["pattern"], finding["line"]) == ("warning", "softmax-pass-through", line_of(path, "return grad"))
    assert "ŷ − y" in finding["message"]


def test_a_softmax_backward_that_computes_the_wrong_thing_is_still_an_error(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "        return grad\n", "        return grad * self.out\n")
    (finding,) = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert finding["layer"] == "Softmax"


def test_a_pass_through_softmax_imported_from_a_file_beside_it_is_a_warning_there(tmp_path):
    (tmp_path / "layers.py").write_text(LAYERS, encoding="utf-8")
    path = write(tmp_path, "net.py", "import numpy as np\nfrom layers import Softmax, Dense\n\nlayer = Softmax()\nlayer.forward(np.ones((4, 3)))\n")
    report = check(path)
    (finding,) = [f for f in report["findings"] if f["name"] == "gradient-mismatch"]
    assert (finding["severity"], finding["pattern"]) == ("warning", "softmax-pass-through")
    assert finding["file"].endswith("layers.py") and finding["line"] == line_of(tmp_path / "layers.py", "return grad")
    assert errors(report) == []
