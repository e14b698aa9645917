"""Functions that return None for reasons other than a forgotten `return`:
- a whole model's backward, whose result every caller throws away (`net.backward(dout)` as a
  statement): nothing reads an input gradient of the whole network, so no finding;
- a function not written yet (an assignment's TODO holding `pass`): a warning that says so, at
  the `pass`, instead of "add `return out`" to a function that already returns `out`."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

MODEL = '''\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(40, 5))
T = np.eye(3)[rng.integers(0, 3, size=40)]


class SoftmaxClassifier:
    def __init__(self, n_in, n_hidden, n_out):
        self.W1 = rng.normal(size=(n_in, n_hidden)) * 0.3
        self.W2 = rng.normal(size=(n_hidden, n_out)) * 0.3

    def forward(self, x):
        self.x = x
        self.h = np.maximum(0, x @ self.W1)
        z = self.h @ self.W2
        e = np.exp(z - z.max(axis=1, keepdims=True))
        self.p = e / e.sum(axis=1, keepdims=True)
        return self.p

    def backward(self, dz):
        self.dW2 = self.h.T @ dz
        dh = dz @ self.W2.T * (self.h > 0)
        self.dW1 = self.x.T @ dh


clf = SoftmaxClassifier(5, 12, 3)
for step in range(200):
    p = clf.forward(X)
    loss = -np.sum(T * np.log(p + 1e-12)) / len(X)
    clf.backward((p - T) / len(X))
    clf.W1 -= 0.5 * clf.dW1
    clf.W2 -= 0.5 * clf.dW2
'''

STUBS = '''\
import numpy as np


def dense_forward(x, w, b):
    """The affine layer's forward pass; returns (out, cache)."""
    out = None
    # TODO: compute out from x, w and b
    pass
    cache = (x, w, b)
    return out, cache


def dense_backward(dout, cache):
    x, w, b = cache
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        pass
'''


def test_a_whole_models_backward_that_returns_nothing_gets_no_finding(tmp_path):
    path = write(tmp_path, "classifier.py", MODEL)
    report = check(path)
    assert [f for f in report["findings"] if f["name"] == "bad-return"] == []
    assert errors(report) == []


def test_a_models_backward_whose_result_is_read_must_return_it(tmp_path):
    path = planted(tmp_path, "classifier.py", MODEL, "    clf.backward((p - T) / len(X))\n", "    dx = clf.backward((p - T) / len(X))\n")
    (finding,) = [f for f in errors(check(path)) if f["name"] == "bad-return"]
    assert "returns None, so the gradient stops here" in finding["message"]


def test_a_todo_left_as_pass_is_called_not_written_at_the_pass(tmp_path):
    path = write(tmp_path, "layers.py", STUBS)
    report = check(path)
    found = {f["line"]: f for f in report["findings"] if f["name"] == "bad-return"}
    todo = line_of(path, "    pass")
    empty = len(path.read_text().splitlines())  # Tanh.backward's `pass`, the file's last line
    assert set(found) == {todo, empty}
    assert all(f["severity"] == "warning" for f in found.values())
    assert "`dense.forward` is not written yet: `out` is still None where it returns" in found[todo]["message"]
    assert "`Tanh.backward` is not written yet: its body is `pass`" in found[empty]["message"]
    assert "add `return out`" not in found[todo]["message"]
    assert report["verdict"].startswith("! ") and "2 of the functions it would run are not written yet" in report["verdict"]
    assert errors(report) == []  # an exercise not done yet is not a failed check


def test_a_written_function_that_forgets_its_return_is_still_an_error(tmp_path):
    source = STUBS.replace("    # TODO: compute out from x, w and b\n    pass\n", "    out = x @ w + b\n").replace(
        "    def backward(self, dout):\n        pass\n", "    def backward(self, dout):\n        return dout * (1 - self.out ** 2)\n")
    path = planted(tmp_path, "layers.py", source, "        return self.out\n", "        self.out = self.out\n")
    (finding,) = [f for f in errors(check(path)) if f["name"] == "bad-return"]
    assert finding["message"].startswith("`Tanh.forward` returns None")


def test_a_model_whose_backward_takes_the_logits_gradient_is_judged_by_its_training_step(tmp_path):
    """`forward` returns probabilities while the loop hands `backward` ŷ − y, the logits' gradient: as a
    layer the model disagrees with itself, yet every update follows the loss: an info, not an error."""
    path = write(tmp_path, "classifier.py", MODEL)
    report = check(path)
    (note,) = [f for f in report["findings"] if f["name"] == "gradient-mismatch"]
    assert (note["severity"], note["pattern"]) == ("info", "right-in-training")
    assert "your training step's updates of `clf.W1`, `clf.W2` follow the gradient of your loss" in note["message"]
    assert "not the derivative of `SoftmaxClassifier.forward`'s output" in note["message"]


def test_a_wrong_backward_of_such_a_model_is_still_an_error(tmp_path):
    path = planted(tmp_path, "classifier.py", MODEL, "        dh = dz @ self.W2.T * (self.h > 0)\n", "        dh = dz @ self.W2.T\n")
    found = {f["param"] for f in errors(check(path)) if f["name"] == "gradient-mismatch"}
    assert found == {"W1"}


def test_gradients_the_training_step_finds_scaled_are_not_taken_as_right():
    """A summed gradient against a mean loss that the program only reports now and then: the step's
    scale absorbs the factor (a warning of its own), which is no evidence that the network's
    gradients are right: their errors stay."""
    from pathlib import Path

    report = check(Path(__file__).resolve().parent.parent / "samples" / "loss_not_divided_by_batch.py")
    found = {f["param"]: f for f in errors(report) if f["name"] == "gradient-mismatch"}
    assert {"W2", "b2"} <= set(found) and "16 × too large" in found["W2"]["message"]
    assert [f for f in report["findings"] if f.get("pattern") == "right-in-training"] == []


BASE = '''\
import numpy as np


class Module:
    def __init__(self):
        self.ctx = None

    def forward(self, x):
        self.ctx = x

    def backward(self, grad):
        ...


class Linear(Module):
    def __init__(self, n_in=4, n_out=3):
        super().__init__()
        self.W = np.random.default_rng(0).normal(size=(n_in, n_out)) * 0.3

    def forward(self, x):
        super().forward(x)
        return x @ self.W

    def backward(self, grad):
        self.dW = self.ctx.T @ grad
        return grad @ self.W.T


class Exp(Module):
    def forward(self, x):
        super().forward(x)
        return np.exp(x)

    def backward(self, grad):
        return super().backward(grad)
'''


def test_a_base_class_that_its_layers_extend_is_not_a_layer(tmp_path):
    report = check(write(tmp_path, "modules.py", BASE))
    assert errors(report) == []
    assert not any("Module" in (f["layer"] or "") for f in report["findings"])
    assert {m["param"] for m in report["measurements"] if m["layer"] == "Linear"} >= {"W", "x"}
    (stub,) = [f for f in report["findings"] if f["name"] == "bad-return"]
    assert stub["severity"] == "warning" and "`Exp.backward` is not written yet: it only hands the call to its base class" in stub["message"]


BRANCHED = '''\
import numpy as np


def step_forward(x, prev_h, Wx, Wh, b):
    next_h, cache = None, None
    pass
    return next_h, cache


def norm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    out, cache = None, None
    if mode == "train":
        pass
    elif mode == "test":
        pass
    return out, cache


def step_backward(dnext_h, cache):
    dx, dprev_h, dWx, dWh, db = None, None, None, None, None
    pass
    return dx, dprev_h, dWx, dWh, db


def norm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    pass
    return dx, dgamma, dbeta


def scale_forward(x, w, b):
    out = None
    if x.ndim == 2:
        out = x * w + b
    else:
        pass
    return out, (x, w)


def scale_backward(dout, cache):
    x, w = cache
    return dout * w, (dout * x).sum(axis=0), dout.sum(axis=0)
'''


def test_stubs_with_tuple_nones_and_branches_are_not_written_but_written_code_is_not(tmp_path):
    path = write(tmp_path, "stubs.py", BRANCHED)
    found = {f["layer"] or f["message"].split("`")[1]: f for f in check(path)["findings"] if f["name"] == "bad-return"}
    messages = " ".join(f["message"] for f in found.values())
    assert "`step.forward` is not written yet: `next_h` is still None" in messages
    assert "`norm.forward` is not written yet: `out` is still None" in messages
    assert "`scale.forward` is not written" not in messages
    assert all(f["severity"] == "warning" for f in found.values())


def test_a_half_done_file_gets_no_check_mark(tmp_path):
    """Some functions written and checked, others still `pass`: the verdict says which are left."""
    source = STUBS.replace("    # TODO: compute out from x, w and b\n    pass\n", "    out = x @ w + b\n")
    report = check(write(tmp_path, "layers.py", source))
    assert errors(report) == []
    assert report["verdict"].startswith("! ") and "layers.py: no errors in" in report["verdict"]
    assert report["verdict"].endswith(f"but 1 function is not written yet: `Tanh.backward` (line {len(source.splitlines())})")


SEQUENTIAL = """\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in)
        self.b = np.zeros(n_out)
        self.params = {"W": self.W, "b": self.b}
        self.grads = {"W": np.zeros_like(self.W), "b": np.zeros_like(self.b)}

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad):
        self.grads["W"][...] = self.x.T @ grad
        self.grads["b"][...] = grad.sum(axis=0)
        return grad @ self.W.T


class ReLU:
    params, grads = {}, {}

    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, grad):
        return grad * self.mask


class Adam:
    def __init__(self, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps, self.t = lr, b1, b2, eps, 0
        self.m, self.v = {}, {}

    def step(self, layers):
        self.t += 1
        for i, layer in enumerate(layers):
            for k in layer.params:
                key = (i, k)
                g = layer.grads[k]
                self.m[key] = self.b1 * self.m.get(key, 0) + (1 - self.b1) * g
                self.v[key] = self.b2 * self.v.get(key, 0) + (1 - self.b2) * g * g
                m_hat = self.m[key] / (1 - self.b1 ** self.t)
                v_hat = self.v[key] / (1 - self.b2 ** self.t)
                layer.params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class Sequential:
    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad):
        for layer in reversed(self.layers):
            grad = layer.backward(grad)

    def fit(self, X, y, epochs, optimizer, batch_size=32):
        for epoch in range(epochs):
            order = np.random.permutation(len(X))
            for start in range(0, len(X), batch_size):
                idx = order[start:start + batch_size]
                out = self.forward(X[idx])
                loss = np.mean((out - y[idx]) ** 2)
                self.backward(2 * (out - y[idx]) / out.size)
                optimizer.step(self.layers)


np.random.seed(0)
X = np.random.randn(256, 4)
y = np.sin(X[:, :1]) + X[:, 1:2] ** 2
model = Sequential(Dense(4, 32), ReLU(), Dense(32, 1))
model.fit(X, y, epochs=20, optimizer=Adam(1e-2))
"""


def test_a_container_model_calling_its_own_backward_in_fit_gets_no_bad_return(tmp_path):
    report = check(write(tmp_path, "seq.py", SEQUENTIAL))
    assert [f for f in report["findings"] if f["name"] == "bad-return"] == [] and errors(report) == []


def test_a_wrong_layer_inside_such_a_model_is_still_found(tmp_path):
    path = planted(tmp_path, "seq.py", SEQUENTIAL, "        return grad * self.mask\n", "        return grad\n")
    assert any(f["name"] == "gradient-mismatch" for f in errors(check(path)))


PACKAGED_LAYERS = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(size=(n_in, n_out)) * 0.3
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out ** 2)


class Regressor:
    def __init__(self, n_in, n_hidden, seed=0):
        rng = np.random.default_rng(seed)
        self.layers = [Dense(n_in, n_hidden, rng), Tanh(), Dense(n_hidden, 1, rng)]

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad):
        for layer in reversed(self.layers):
            grad = layer.backward(grad)

    def step(self, lr):
        for layer in self.layers[::2]:
            layer.W -= lr * layer.dW
            layer.b -= lr * layer.db
'''

PACKAGED_SCRIPT = '''\
import numpy as np

from nets.model import Regressor


def train(model, x, y, epochs, lr):
    for epoch in range(epochs):
        pred = model.forward(x)
        loss = np.mean((pred - y) ** 2)
        model.backward(2 * (pred - y) / len(x))
        model.step(lr)
    return loss


rng = np.random.default_rng(1)
x = rng.normal(size=(64, 3))
y = np.sin(x.sum(axis=1, keepdims=True))
model = Regressor(3, 16)
print(train(model, x, y, 100, 0.1))
'''


def test_a_whole_model_from_another_module_of_the_package_that_returns_nothing_gets_no_finding(tmp_path):
    """The model is defined in `nets/model.py` and made and trained by the checked script: the script's
    own calls (`model.backward(...)` as a statement) are what show its result is thrown away."""
    write(tmp_path, "nets/__init__.py", "")
    write(tmp_path, "nets/model.py", PACKAGED_LAYERS)
    path = write(tmp_path, "train.py", PACKAGED_SCRIPT)
    report = check(path)
    assert [f for f in report["findings"] if f["name"] == "bad-return"] == []
    assert errors(report) == []
    assert report["built"]


def test_a_packaged_models_backward_whose_result_the_script_reads_must_return_it(tmp_path):
    write(tmp_path, "nets/__init__.py", "")
    model = write(tmp_path, "nets/model.py", PACKAGED_LAYERS)
    path = planted(tmp_path, "train.py", PACKAGED_SCRIPT, "        model.backward(", "        dx = model.backward(")
    (finding,) = [f for f in errors(check(path)) if f["name"] == "bad-return"]
    assert "returns None, so the gradient stops here" in finding["message"]
    assert finding["line"] == line_of(model, "    def backward(self, grad):")


DICT_MODEL = '''\
import numpy as np

rng = np.random.default_rng(5)
X = rng.normal(size=(120, 2))
Y = (np.sum(X ** 2, axis=1, keepdims=True) > 1.5).astype(float)


class CircleNet:
    def __init__(self, n_in, n_hidden):
        self.W_h = rng.normal(size=(n_in, n_hidden))
        self.b_h = np.zeros((1, n_hidden))
        self.W_o = rng.normal(size=(n_hidden, 1))
        self.b_o = np.zeros((1, 1))

    def forward_pass(self, X):
        Z_h = X @ self.W_h + self.b_h
        H = np.tanh(Z_h)
        P = 1 / (1 + np.exp(-(H @ self.W_o + self.b_o)))
        return {"H": H, "P": P}

    def cost(self, Y, P):
        return -np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))

    def backward_pass(self, X, Y, cache):
        n = len(X)
        dZ_o = cache["P"] - Y
        dW_o = cache["H"].T @ dZ_o / n
        db_o = np.sum(dZ_o, axis=0, keepdims=True) / n
        dZ_h = dZ_o @ self.W_o.T * (1 - cache["H"] ** 2)
        dW_h = X.T @ dZ_h / n
        db_h = np.sum(dZ_h, axis=0, keepdims=True) / n
        return {"dW_o": dW_o, "db_o": db_o, "dW_h": dW_h, "db_h": db_h}

    def train(self, X, Y, iterations, eta):
        for i in range(iterations):
            cache = self.forward_pass(X)
            cost = self.cost(Y, cache["P"])
            grads = self.backward_pass(X, Y, cache)
            self.W_o = self.W_o - eta * grads["dW_o"]
            self.b_o = self.b_o - eta * grads["db_o"]
            self.W_h = self.W_h - eta * grads["dW_h"]
            self.b_h = self.b_h - eta * grads["db_h"]
        return cost


net = CircleNet(2, 6)
print(net.train(X, Y, 300, 0.5))
'''


def test_a_models_forward_that_hands_its_cache_on_as_a_dict_is_no_bad_return(tmp_path):
    """`forward_pass` returns a dict that the model's own code reads by key: a design, not a forgotten
    output array."""
    path = write(tmp_path, "circles.py", DICT_MODEL)
    report = check(path)
    assert [f for f in report["findings"] if f["name"] == "bad-return"] == []
    assert errors(report) == []


def test_a_bias_summed_over_everything_in_such_a_model_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "circles.py", DICT_MODEL, "db_h = np.sum(dZ_h, axis=0, keepdims=True) / n", "db_h = np.sum(dZ_h) / n")
    found = errors(check(path))
    assert [(f["name"], f["line"]) for f in found] == [("step-gradient-mismatch", line_of(path, "db_h = np.sum(dZ_h) / n"))]


def test_a_forward_whose_dict_the_caller_uses_as_an_array_is_still_a_bad_return(tmp_path):
    source = DICT_MODEL.replace('            cost = self.cost(Y, cache["P"])\n', "            cost = self.cost(Y, self.forward_pass(X))\n")
    path = write(tmp_path, "circles.py", source)
    assert "`CircleNet.forward_pass` returns a dict, not an array" in " ".join(f["message"] for f in errors(check(path)) if f["name"] == "bad-return")
