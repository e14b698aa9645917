"""A reshaping layer that records each forward's input shape in a list (`self.cache["shapes"].append(
X.shape)`) and reshapes its backward's gradient to the first recorded shape, the list emptied only by
its framework's flush, is a layer: its backward's argument (`dLdY`, `dL_dout`) is the upstream
gradient, not the input of a derivative. It is checked with one forward then one backward on the same
shape, and passes; a backward that reshapes to the wrong shape is still found. A merge layer written
the same way whose forward takes a list of inputs (`X[0]`, `len(X)`) is listed as not checked, with
that reason, not fed one batch as if it were its inputs."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

# style 1: shapes kept in a dictionary of derived values, the layout chosen by an argument
DICTIONARY = '''\
import numpy as np


class Collapse:
    def __init__(self, keep="first"):
        self.keep = keep
        self.derived = {"in_shapes": []}

    def forward(self, X, retain=True):
        if retain:
            self.derived["in_shapes"].append(X.shape)
        if self.keep == "first":
            return X.reshape(X.shape[0], -1)
        return X.reshape(-1, X.shape[-1])

    def backward(self, dLdY, retain_grads=True):
        shapes = self.derived["in_shapes"]
        return dLdY.reshape(*shapes[0])

    def flush(self):
        self.derived = {"in_shapes": []}
'''

# style 2: a plain list on the layer, in a file of layers beside a dense one
NETWORK = '''\
import numpy as np


class Unroll:
    def __init__(self):
        self.seen = []

    def forward(self, x):
        self.seen.append(x.shape)
        return x.reshape(len(x), -1)

    def backward(self, dL_dout):
        return dL_dout.reshape(self.seen[0])


class Dense:
    def __init__(self, n_in, n_out):
        rng = np.random.default_rng(0)
        self.W = rng.normal(0, 0.1, (n_in, n_out))
        self.dW = np.zeros_like(self.W)

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW = self.x.T @ dout
        return dout @ self.W.T

'''


def test_a_layer_reshaping_to_its_first_recorded_shape_is_a_layer_and_passes(tmp_path):
    report = check(write(tmp_path, "collapse.py", DICTIONARY))
    assert errors(report) == []
    (built,) = [b for b in report["built"] if b["what"] == "Collapse"]
    assert "derivative" not in built["shapes"]
    assert {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "Collapse"} == {"x": "ok"}


def test_a_recording_layer_that_reshapes_to_the_wrong_layout_is_found(tmp_path):
    path = planted(tmp_path, "collapse.py", DICTIONARY, "return dLdY.reshape(*shapes[0])", "return dLdY.T.reshape(*shapes[0])")
    assert "Collapse" in {f["layer"] for f in errors(check(path))}


def test_an_unrolling_layer_with_a_spelled_out_gradient_name_passes(tmp_path):
    report = check(write(tmp_path, "net.py", NETWORK))
    assert errors(report) == []
    assert {m["verdict"] for m in report["measurements"] if m["layer"] == "Unroll"} == {"ok"}


def test_an_unrolling_layer_that_reshapes_to_the_wrong_layout_is_found(tmp_path):
    path = planted(tmp_path, "net.py", NETWORK, "return dL_dout.reshape(self.seen[0])", "return dL_dout.reshape(self.seen[0][::-1]).T")
    assert "Unroll" in {f["layer"] for f in errors(check(path))}


MERGE = '''\
import numpy as np


class Merge:
    def __init__(self):
        self.kept = []

    def forward(self, X):
        total = X[0].copy()
        for i in range(1, len(X)):
            total += X[i]
        self.kept.append(X)
        return np.tanh(total)

    def backward(self, dLdY):
        X = self.kept[0]
        total = sum(X[1:], X[0].copy())
        return [dLdY * (1 - np.tanh(total) ** 2) for _ in X]
'''


def test_a_merge_layer_over_a_list_of_inputs_is_listed_as_not_checked(tmp_path):
    report = check(write(tmp_path, "merge.py", MERGE))
    assert errors(report) == []
    (built,) = [b for b in report["built"] if b["what"] == "Merge"]
    assert "list of inputs" in (built["skipped"] or "")
