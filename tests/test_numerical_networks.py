"""Networks trained by finite differences alone, the book's chapter 4: `loss(x, t)` and
`numerical_gradient(x, t)`, no backward pass. They were "nothing to check"; now the network is
built small, its numerical gradient compared with the engine's probes, its prediction's softmax
and its initial loss checked, wherever its softmax lives."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from backprop_doctor.pipeline import check_file
from backprop_doctor.conventions.networks import Network, is_network_class, is_numerical_network
from tests.userfiles import check, errors, line_of, planted, write

FUNCTIONS = """\
    import numpy as np


    def sigmoid(x):
        return 1 / (1 + np.exp(-x))


    def softmax(x):
        x = x - np.max(x, axis=-1, keepdims=True)
        e = np.exp(x)
        return e / np.sum(e, axis=-1, keepdims=True)


    def cross_entropy_error(y, t):
        if y.ndim == 1:
            t = t.reshape(1, t.size)
            y = y.reshape(1, y.size)
        if t.size == y.size:
            t = t.argmax(axis=1)
        n = y.shape[0]
        return -np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n


    def numerical_gradient(f, x):
        h = 1e-4
        grad = np.zeros_like(x)
        it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            i = it.multi_index
            kept = x[i]
            x[i] = kept + h
            above = f(x)
            x[i] = kept - h
            below = f(x)
            grad[i] = (above - below) / (2 * h)
            x[i] = kept
            it.iternext()
        return grad
"""

NETWORK = """\
    import sys, os
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
    import numpy as np
    from common.functions import sigmoid, softmax, cross_entropy_error, numerical_gradient


    class TwoLayerNet:
        def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
            self.params = {}
            self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)
            self.params["b1"] = np.zeros(hidden_size)
            self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)
            self.params["b2"] = np.zeros(output_size)

        def predict(self, x):
            a1 = np.dot(x, self.params["W1"]) + self.params["b1"]
            z1 = sigmoid(a1)
            a2 = np.dot(z1, self.params["W2"]) + self.params["b2"]
            return softmax(a2)

        def loss(self, x, t):
            return cross_entropy_error(self.predict(x), t)

        def numerical_gradient(self, x, t):
            loss_w = lambda w: self.loss(x, t)
            return {k: numerical_gradient(loss_w, self.params[k]) for k in ("W1", "b1", "W2", "b2")}
"""

SCRIPT = """\
    import numpy as np
    from two_layer_net import TwoLayerNet

    x_train = np.random.rand(60, 10)
    t_train = np.eye(3)[np.random.randint(0, 3, 60)]
    network = TwoLayerNet(input_size=10, hidden_size=6, output_size=3)
    for i in range(3):
        mask = np.random.choice(60, 20)
        grad = network.numerical_gradient(x_train[mask], t_train[mask])
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= 0.1 * grad[key]
        print(network.loss(x_train[mask], t_train[mask]))
"""


def _project(folder: Path, functions: str = FUNCTIONS) -> Path:
    write(folder, "common/__init__.py", "")
    write(folder, "common/functions.py", functions)
    write(folder, "two_layer_net.py", NETWORK)
    return write(folder, "train.py", SCRIPT)


def _load(folder: Path, name: str) -> dict:
    namespace: dict = {"__file__": str(folder / name), "__name__": "user_module"}
    exec(compile((folder / name).read_text(), str(folder / name), "exec"), namespace)
    return namespace


def test_a_network_with_only_a_numerical_gradient_is_recognised_and_a_backprop_network_is_not(tmp_path: Path) -> None:
    _project(tmp_path)
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        cls = _load(tmp_path, "two_layer_net.py")["TwoLayerNet"]
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "common" or m.startswith("common.")]:
            del sys.modules[name]
    assert is_numerical_network(cls) and not is_network_class(cls)
    with_backward = type("WithGradient", (cls,), {"gradient": lambda self, x, t: {}})
    assert is_network_class(with_backward) and not is_numerical_network(with_backward)
    net = cls(4, 3, 2)
    assert Network(net).gradient_name == "numerical_gradient"
    before = {k: v.copy() for k, v in net.params.items()}
    x, t = np.random.default_rng(0).random((3, 4)), np.eye(2)[[0, 1, 1]]
    grads = Network(net).gradient(x, t)
    assert set(grads) == {"W1", "b1", "W2", "b2"}
    assert all(np.array_equal(before[k], net.params[k]) for k in before)


def test_the_book_s_chapter_4_script_is_checked_clean(tmp_path: Path) -> None:
    script = _project(tmp_path)
    report = check(script)
    assert errors(report) == []
    assert "nothing-to-check" not in {f["name"] for f in report["findings"]}
    assert report["verdict"].startswith("✓") and "1 network" in report["verdict"]
    rows = [m for m in report["measurements"] if m["layer"] == "TwoLayerNet"]
    assert {m["param"] for m in rows} == {"W1", "b1", "W2", "b2"} and all(m["verdict"] == "ok" for m in rows)


def test_a_softmax_over_the_whole_batch_in_a_module_the_script_never_names_is_found(tmp_path: Path) -> None:
    wrong = FUNCTIONS.replace("np.sum(e, axis=-1, keepdims=True)", "np.sum(e)").replace(
        "np.max(x, axis=-1, keepdims=True)", "np.max(x)"
    )
    script = _project(tmp_path, wrong)
    report = check(script)
    (finding,) = errors(report)
    assert finding["name"] == "softmax-not-per-row"
    assert Path(finding["file"]).name == "functions.py"
    assert finding["line"] == line_of(tmp_path / "common" / "functions.py", "return e / np.sum(e)")
    assert "TwoLayerNet.predict" in str(finding["evidence"])


def test_a_numerical_gradient_divided_by_one_step_instead_of_two_is_a_gradient_mismatch(tmp_path: Path) -> None:
    wrong = planted(tmp_path, "common/functions.py", FUNCTIONS, "(above - below) / (2 * h)", "(above - below) / h")
    write(tmp_path, "common/__init__.py", "")
    write(tmp_path, "two_layer_net.py", NETWORK)
    script = write(tmp_path, "train.py", SCRIPT)
    report = check(script)
    mismatches = [f for f in errors(report) if f["name"] == "gradient-mismatch"]
    assert mismatches, report["findings"]
    assert {f["line"] for f in mismatches} <= {line_of(wrong, "(above - below) / h"), line_of(tmp_path / "two_layer_net.py", "return {k: numerical_gradient")}


@pytest.mark.parametrize("sizes", ["input_size=784, hidden_size=50, output_size=10", "input_size=10, hidden_size=6, output_size=3"])
def test_the_network_is_checked_at_the_file_s_sizes_only_when_they_are_small(tmp_path: Path, sizes: str) -> None:
    _project(tmp_path)
    network = write(tmp_path, "two_layer_net.py", textwrap.dedent(NETWORK) + f"\n\nnet = TwoLayerNet({sizes})\n")
    report = check(network)
    (built,) = [b for b in report["built"] if b["what"] == "TwoLayerNet"]
    if "784" in sizes:
        assert "inferred from argument names" in built["how"]
    else:
        assert f"line {line_of(network, 'net = TwoLayerNet(')}" in built["how"]
    assert errors(report) == []


# --------------------------------------------------------------------------- the finite differences themselves

ROW_BY_ROW = """\
    import numpy as np


    def _numerical_gradient_1d(f, x):
        h = 1e-4
        grad = np.zeros_like(x)
        for i in range(x.size):
            kept = x[i]
            x[i] = float(kept) + h
            above = f(x)
            x[i] = kept - h
            below = f(x)
            grad[i] = (above - below) / (2 * h)
            x[i] = kept
        return grad


    def numerical_gradient_2d(f, X):
        if X.ndim == 1:
            return _numerical_gradient_1d(f, X)
        grad = np.zeros_like(X)
        for i, row in enumerate(X):
            grad[i] = _numerical_gradient_1d(f, row)
        return grad
"""

CS231N_STYLE = """\
    import numpy as np


    def eval_numerical_gradient(f, x, verbose=True, h=0.00001):
        fx = f(x)
        grad = np.zeros(x.shape)
        it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            ix = it.multi_index
            old = x[ix]
            x[ix] = old + h
            fxh = f(x)
            x[ix] = old
            grad[ix] = (fxh - fx) / h
            if verbose:
                print(ix, grad[ix])
            it.iternext()
        return grad


    def eval_numerical_gradient_array(f, x, df, h=1e-5):
        grad = np.zeros_like(x)
        it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            ix = it.multi_index
            old = x[ix]
            x[ix] = old + h
            pos = f(x).copy()
            x[ix] = old - h
            neg = f(x).copy()
            x[ix] = old
            grad[ix] = np.sum((pos - neg) * df) / (2 * h)
            it.iternext()
        return grad


    def eval_numerical_gradient_blobs(f, inputs, output, h=1e-5):
        numeric_diffs = []
        for input_blob in inputs:
            diff = np.zeros_like(input_blob.diffs)
            numeric_diffs.append(diff)
        return numeric_diffs
"""


def _measured(report: dict) -> dict[str, str]:
    return {m["layer"]: m["verdict"] for m in report["measurements"]}


def test_the_book_s_numerical_gradient_is_checked_on_a_vector_and_a_matrix(tmp_path: Path) -> None:
    path = write(tmp_path, "functions.py", FUNCTIONS)
    report = check(path)
    assert errors(report) == []
    assert _measured(report)["numerical_gradient"] == "ok"
    (built,) = [b for b in report["built"] if b["what"] == "numerical_gradient"]
    assert "(7,)" in built["shapes"] and "(3, 4)" in built["shapes"]


@pytest.mark.parametrize(
    ("correct", "wrong", "pattern"),
    [
        ("(above - below) / (2 * h)", "(above - below) / h", "scaled"),
        ("h = 1e-4", "h = 1e-50", "not-computed"),
    ],
)
def test_a_slip_in_the_numerical_gradient_is_reported_at_its_line(tmp_path: Path, correct: str, wrong: str, pattern: str) -> None:
    path = planted(tmp_path, "functions.py", FUNCTIONS, correct, wrong)
    report = check(path)
    (finding,) = [f for f in errors(report) if f["layer"] == "numerical_gradient"]
    assert finding["name"] == "gradient-mismatch" and finding["pattern"] == pattern
    assert finding["line"] == line_of(path, "grad[i] = (above - below)")


def test_a_gradient_taken_row_by_row_on_the_point_moved_in_place_is_right(tmp_path: Path) -> None:
    report = check(write(tmp_path, "gradient.py", ROW_BY_ROW))
    assert errors(report) == []
    assert _measured(report) == {"_numerical_gradient_1d": "ok", "numerical_gradient_2d": "ok"}


def test_cs231n_helpers_one_sided_and_with_an_upstream_gradient_are_right_and_blobs_are_left_alone(tmp_path: Path) -> None:
    report = check(write(tmp_path, "gradient_check.py", CS231N_STYLE))
    assert errors(report) == []
    assert _measured(report) == {"eval_numerical_gradient": "ok", "eval_numerical_gradient_array": "ok"}
    assert not [b for b in report["built"] if b["what"] == "eval_numerical_gradient_blobs" and not b["skipped"]]


def test_a_one_sided_difference_is_right_only_within_the_looser_tolerance_the_user_can_tighten(tmp_path: Path) -> None:
    path = write(tmp_path, "gradient_check.py", CS231N_STYLE.replace("h=0.00001", "h=0.0001"))
    assert errors(check(path)) == []
    strict = check_file(path, training=False, run=False, rtol=1e-6)  # the library API: the user's own tolerance
    assert [f.layer for f in strict.errors] == ["eval_numerical_gradient"]


COPYING = """\
    import numpy as np


    def numerical_gradient(f, x):
        h = 1e-4
        grad = np.zeros_like(x)
        for i in range(x.size):
            step = np.zeros(x.size)
            step[i] = h
            grad[i] = (f(x + step) - f(x - step)) / (2 * h)
        return grad


    def numerical_gradient_rows(f, x):
        if x.ndim == 1:
            return numerical_gradient(f, x)
        grad = np.zeros_like(x)
        for i, row in enumerate(x):
            grad[i] = numerical_gradient(f, row)
        return grad
"""


def test_a_gradient_that_moves_copies_is_right_for_f_of_its_argument_and_zero_for_the_book_s_lambda(tmp_path: Path) -> None:
    """`f(x + step)` never moves the array itself: right for a function of its argument (the
    vector case), all zeros for the book's `lambda w: self.loss(x, t)`, which ignores it. The row
    by row version answers another question on a matrix (f at each row) and is not judged there."""
    functions = FUNCTIONS.split("    def numerical_gradient(f, x):")[0] + COPYING.split("import numpy as np\n", 1)[1]
    write(tmp_path, "common/__init__.py", "")
    write(tmp_path, "common/functions.py", functions)
    network = write(tmp_path, "two_layer_net.py", NETWORK.replace("numerical_gradient(loss_w", "numerical_gradient_rows(loss_w").replace(
        "cross_entropy_error, numerical_gradient", "cross_entropy_error, numerical_gradient_rows"
    ))
    report = check(network)
    wrong = errors(report)
    assert {(f["name"], f["layer"], f["line"], f["pattern"]) for f in wrong} == {
        ("gradient-mismatch", "TwoLayerNet", line_of(network, "return {k: numerical_gradient_rows"), "not-computed")
    }
    assert {f["param"] for f in wrong} == {"W1", "b1", "W2", "b2"}
    assert all("not a copy (`f(x + h)`)" in f["message"] and "in place" in f["message"] for f in wrong)
    alone = check(tmp_path / "common" / "functions.py")
    assert errors(alone) == []
    assert _measured(alone)["numerical_gradient"] == "ok" and _measured(alone)["numerical_gradient_rows"] == "ok"
    (rows,) = [b for b in alone["built"] if b["what"] == "numerical_gradient_rows"]
    assert "(3, 4)" not in rows["shapes"]


def test_an_imported_finite_difference_helper_is_checked_only_where_the_file_has_nothing_else(tmp_path: Path) -> None:
    write(tmp_path, "gradient_check.py", CS231N_STYLE)
    alone = write(tmp_path, "check_w.py", """\
        import numpy as np
        from gradient_check import eval_numerical_gradient

        W = np.random.randn(3, 2)
        print(eval_numerical_gradient(lambda w: np.sum(w ** 2), W, verbose=False))
    """)
    assert _measured(check(alone)) == {"eval_numerical_gradient": "ok"}
    beside = write(tmp_path, "layers_notebook.py", """\
        import numpy as np
        from gradient_check import eval_numerical_gradient_array


        def affine_forward(x, w, b):
            return x @ w + b, (x, w, b)


        def affine_backward(dout, cache):
            x, w, b = cache
            return dout @ w.T, x.T @ dout, dout.sum(axis=0)


        x, w, b = np.random.randn(4, 3), np.random.randn(3, 2), np.random.randn(2)
        dout = np.random.randn(4, 2)
        dx_num = eval_numerical_gradient_array(lambda x: affine_forward(x, w, b)[0], x, dout)
    """)
    report = check(beside)
    assert errors(report) == []
    assert "eval_numerical_gradient_array" not in _measured(report)
    assert "affine_forward/affine_backward" in {b["what"] for b in report["built"]}


def test_a_copying_gradient_stored_line_by_line_keeps_its_own_account(tmp_path: Path) -> None:
    """The book's layout, one `grads[...] = numerical_gradient(loss_w, ...)` per parameter after
    `loss_w = lambda w: self.loss(x, t)`: the gradients all come from the lambda's line, yet the finding
    says what happened (the helper moves copies the loss never reads), not that the line zeroes them."""
    functions = FUNCTIONS.split("    def numerical_gradient(f, x):")[0] + COPYING.split("import numpy as np\n", 1)[1]
    write(tmp_path, "common/__init__.py", "")
    write(tmp_path, "common/functions.py", functions)
    by_line = NETWORK.replace(
        '            return {k: numerical_gradient(loss_w, self.params[k]) for k in ("W1", "b1", "W2", "b2")}\n',
        "            grads = {}\n"
        '            grads["W1"] = numerical_gradient(loss_w, self.params["W1"])\n'
        '            grads["b1"] = numerical_gradient(loss_w, self.params["b1"])\n'
        '            grads["W2"] = numerical_gradient(loss_w, self.params["W2"])\n'
        '            grads["b2"] = numerical_gradient(loss_w, self.params["b2"])\n'
        "            return grads\n",
    ).replace("numerical_gradient(loss_w", "numerical_gradient_rows(loss_w").replace(
        "cross_entropy_error, numerical_gradient", "cross_entropy_error, numerical_gradient_rows"
    )
    network = write(tmp_path, "two_layer_net.py", by_line)
    wrong = errors(check(network))
    assert wrong and all(f["pattern"] == "not-computed" and "not a copy (`f(x + h)`)" in f["message"] for f in wrong)
    assert line_of(network, "loss_w = lambda w") not in {f["line"] for f in wrong}
