"""The observed run: the real CLI runs each user program's own script and checks what it built, on
what it fed them (`built[].origin == "observed"`, the creating line, the real shapes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from userfiles import check, line_of, write

BOOK_LAYERS = '''
import numpy as np
from collections import OrderedDict


def softmax(x):
    x = x - np.max(x, axis=1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout = dout.copy()
        dout[self.mask] = 0
        return dout


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx * dout
'''

TWO_LAYER_NET = '''

class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)
        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
        self.layers['Relu1'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W2'], self.params['b2'])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        return self.lastLayer.forward(y, t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)
        grads = {}
        grads['W1'], grads['b1'] = self.layers['Affine1'].dW, self.layers['Affine1'].db
        grads['W2'], grads['b2'] = self.layers['Affine2'].dW, self.layers['Affine2'].db
        return grads
'''


def built(report: dict, what: str) -> dict:
    entries = [b for b in report["built"] if b["what"].split(" (")[0] == what]
    assert entries, report["built"]
    return entries[0]


def codes(report: dict, severity: str = "error") -> list[str]:
    return [f"{f['code']} {f['message']}" for f in report["findings"] if f["severity"] == severity]


def test_a_module_level_script_is_run_and_its_layers_are_checked_at_the_shapes_it_uses(tmp_path):
    path = write(tmp_path, "regression.py", BOOK_LAYERS + '''

class MeanSquaredError:
    def forward(self, y, t):
        self.y, self.t = y, t
        return 0.5 * np.mean(np.sum((y - t) ** 2, axis=1))

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.y.shape[0]


np.random.seed(1)
X = np.random.randn(64, 3)
Y = np.stack([X[:, 0] * X[:, 1], np.sin(X[:, 2])], axis=1)
fc1 = Affine(0.5 * np.random.randn(3, 7), np.zeros(7))
act = Relu()
fc2 = Affine(0.5 * np.random.randn(7, 2), np.zeros(2))
mse = MeanSquaredError()
for epoch in range(5000):
    out = fc2.forward(act.forward(fc1.forward(X)))
    loss = mse.forward(out, Y)
    fc1.backward(act.backward(fc2.backward(mse.backward())))
    for layer in (fc1, fc2):
        layer.W -= 0.1 * layer.dW
        layer.b -= 0.1 * layer.db
''')
    report = check(path)
    assert report["ok"], codes(report)
    first = [b for b in report["built"] if b["what"].startswith("Affine")]
    assert [(b["origin"], b["line"]) for b in first] == [("observed", line_of(path, "fc1 = Affine")), ("observed", line_of(path, "fc2 = Affine"))]
    assert "x (64, 3)" in first[0]["shapes"] and "x (64, 7)" in first[1]["shapes"]
    assert "Affine(W=array(3, 7), b=array(7,))" in first[0]["how"]
    mse = built(report, "MeanSquaredError")
    assert "x (64, 2), t (64, 2)" in mse["shapes"]
    # Only the class the program never used is built with synthesized arguments.
    assert [b["what"] for b in report["built"] if b["origin"] == "synthesized"] == ["SoftmaxWithLoss"]
    run = report["extras"]["observed_run"]
    assert run["stopped"] == "enough"
    assert run["loss"]["line"] == line_of(path, "loss = mse.forward") and len(run["loss"]["values"]) >= 10
    assert run["loss"]["values"][-1] < run["loss"]["values"][0]  # the user's own curve falls


def test_a_main_block_network_built_with_a_list_of_sizes_and_an_rng_is_observed(tmp_path):
    path = write(tmp_path, "mlp.py", BOOK_LAYERS + '''

class MultiLayerNet:
    def __init__(self, input_size, hidden_size_list, output_size, rng):
        sizes = [input_size] + hidden_size_list + [output_size]
        self.params = {}
        self.layers = OrderedDict()
        for i in range(1, len(sizes)):
            self.params['W%d' % i] = rng.normal(0, np.sqrt(2.0 / sizes[i - 1]), (sizes[i - 1], sizes[i]))
            self.params['b%d' % i] = np.zeros(sizes[i])
            self.layers['Affine%d' % i] = Affine(self.params['W%d' % i], self.params['b%d' % i])
            if i < len(sizes) - 1:
                self.layers['Relu%d' % i] = Relu()
        self.last_layer = SoftmaxWithLoss()
        self.n = len(sizes) - 1

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.n + 1):
            grads['W%d' % i] = self.layers['Affine%d' % i].dW
            grads['b%d' % i] = self.layers['Affine%d' % i].db
        return grads


if __name__ == "__main__":
    rng = np.random.default_rng(7)
    centers = rng.normal(0, 2, (4, 13))
    labels = rng.integers(0, 4, 500)
    x_train = centers[labels] + rng.normal(0, 1, (500, 13))
    network = MultiLayerNet(input_size=13, hidden_size_list=[50, 50], output_size=4, rng=rng)
    for i in range(2000):
        batch = rng.choice(500, 25)
        grad = network.gradient(x_train[batch], labels[batch])
        for key in network.params:
            network.params[key] -= 0.1 * grad[key]
        print(network.loss(x_train, labels))
''')
    report = check(path)
    assert report["ok"], codes(report)
    net = built(report, "MultiLayerNet")
    assert (net["origin"], net["line"]) == ("observed", line_of(path, "network = MultiLayerNet("))
    assert "hidden_size_list=[50, 50]" in net["how"] and "rng=<Generator>" in net["how"]
    assert "x (25, 13), t (25,)" in net["shapes"]
    layer_inputs = {b["what"]: b["shapes"] for b in report["built"] if b["how"].startswith("MultiLayerNet layer")}
    assert layer_inputs["Affine1"] == "input (16, 13)" and layer_inputs["Affine2"] == "input (16, 50)"  # the first 16 rows
    assert layer_inputs["Affine3"] == "input (16, 50)"
    params = {m["param"] for m in report["measurements"] if m["layer"] == "MultiLayerNet"}
    assert params == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert not [b for b in report["built"] if b["origin"] == "synthesized"]


def test_data_from_a_missing_dataset_mnist_is_synthetic_of_the_real_shapes(tmp_path):
    path = write(tmp_path, "train_neuralnet.py", "import sys, os\nsys.path.append(os.pardir)\nfrom dataset.mnist import load_mnist\n" + BOOK_LAYERS + TWO_LAYER_NET + '''

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)

iters_num = 10000
train_size = x_train.shape[0]
batch_size = 100
learning_rate = 0.1
train_loss_list = []

for i in range(iters_num):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]
    grad = network.gradient(x_batch, t_batch)
    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= learning_rate * grad[key]
    loss = network.loss(x_batch, t_batch)
    train_loss_list.append(loss)
''')
    report = check(path)
    assert report["ok"], codes(report)
    net = built(report, "TwoLayerNet")
    assert (net["origin"], net["line"]) == ("observed", line_of(path, "network = TwoLayerNet("))
    assert "x (100, 784), t (100, 10)" in net["shapes"]
    synthetic = [f for f in report["findings"] if f["name"] == "synthetic-data"]
    assert [f["line"] for f in synthetic] == [line_of(path, "= load_mnist(")]
    assert "x (600, 784) float32" in synthetic[0]["message"] and "t (600, 10) uint8" in synthetic[0]["message"]
    loss = report["extras"]["observed_run"]["loss"]
    assert loss["line"] == line_of(path, "loss = network.loss(") and loss["values"][-1] < loss["values"][0]


def test_a_dlfs2_rnn_cell_built_from_arrays_is_checked_with_its_recorded_inputs(tmp_path):
    cell = '''
    import numpy as np


    class RNN:
        def __init__(self, Wx, Wh, b):
            self.params = [Wx, Wh, b]
            self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
            self.cache = None

        def forward(self, x, h_prev):
            Wx, Wh, b = self.params
            t = np.dot(h_prev, Wh) + np.dot(x, Wx) + b
            h_next = np.tanh(t)
            self.cache = (x, h_prev, h_next)
            return h_next

        def backward(self, dh_next):
            Wx, Wh, b = self.params
            x, h_prev, h_next = self.cache
            dt = dh_next * (1 - h_next ** 2)
            db = np.sum(dt, axis=0)
            dWh = np.dot(h_prev.T, dt)
            dh_prev = np.dot(dt, Wh.T)
            dWx = np.dot(x.T, dt)
            dx = np.dot(dt, Wx.T)
            self.grads[0][...] = dWx
            self.grads[1][...] = dWh
            self.grads[2][...] = db
            return dx, dh_prev


    N, D, H, T = 4, 3, 5, 6
    rng = np.random.default_rng(0)
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    Wh = rng.standard_normal((H, H)) / np.sqrt(H)
    b = np.zeros(H)
    xs = rng.standard_normal((T, N, D))
    target = rng.standard_normal((N, H))
    for it in range(100):
        cells = [RNN(Wx, Wh, b) for _ in range(T)]
        h = np.zeros((N, H))
        for t in range(T):
            h = cells[t].forward(xs[t], h)
        dh = (h - target) / N
        for t in reversed(range(T)):
            dx, dh = cells[t].backward(dh)
            Wx -= 0.1 * cells[t].grads[0]
    '''
    path = write(tmp_path, "rnn_cell.py", cell)
    report = check(path)
    assert report["ok"], codes(report)
    rnn = built(report, "RNN")
    assert (rnn["origin"], rnn["line"]) == ("observed", line_of(path, "cells = [RNN("))
    assert rnn["how"].startswith("RNN(Wx=array(3, 5), Wh=array(5, 5), b=array(5,))")
    assert "x (4, 3), h_prev (4, 5)" in rnn["shapes"]
    # `return dx, dh_prev`: the state's gradient is checked beside the input's
    assert {m["param"] for m in report["measurements"] if m["layer"] == "RNN"} == {"x", "Wx", "Wh", "b", "h_prev"}
    assert len([b for b in report["built"] if b["what"].startswith("RNN")]) == 1  # six cells, one shape

    broken = write(tmp_path / "broken", "rnn_cell.py", cell.replace("dWh = np.dot(h_prev.T, dt)", "dWh = np.dot(h_prev.T, dh_next)"))
    report = check(broken)
    mismatches = [f for f in report["findings"] if f["name"] == "gradient-mismatch"]
    # where `dWh` is computed, not the line that copies it into `grads`
    assert [(f["layer"], f["param"], f["line"]) for f in mismatches] == [("RNN", "Wh", line_of(broken, "dWh = np.dot(h_prev.T, dh_next)"))]


def test_an_lstm_over_a_sequence_is_fed_the_sequence_the_program_gave_it(tmp_path):
    path = write(tmp_path, "lstm.py", (Path(__file__).parent / "cases" / "observe_lstm.py").read_text())
    report = check(path)
    assert report["ok"], codes(report)
    lstm = built(report, "LSTM")
    assert (lstm["origin"], lstm["line"]) == ("observed", line_of(path, "lstm = LSTM("))
    assert "LSTM(input_dim=2, hidden_dim=10, seed=0)" in lstm["how"]
    assert "xs (8, 12, 2)" in lstm["shapes"]
    assert "hs (8, 12, 10)" in built(report, "Readout")["shapes"]
    assert {m["param"] for m in report["measurements"] if m["layer"] == "LSTM"} == {"x", "Wx", "Wh", "b"}


def test_no_run_keeps_the_synthesized_builds(tmp_path):
    path = write(tmp_path, "lstm.py", (Path(__file__).parent / "cases" / "observe_lstm.py").read_text())
    report = check(path, "--no-run")
    assert "observed_run" not in report["extras"]
    assert {b["origin"] for b in report["built"]} == {"synthesized"}


def test_a_program_that_runs_forever_is_stopped_by_the_run_budget(tmp_path):
    path = write(tmp_path, "forever.py", BOOK_LAYERS + '''
layer = Affine(np.ones((3, 2)), np.zeros(2))
x = np.ones((4, 3))
while True:
    y = layer.forward(x)
''')
    report = check(path, "--run-budget", "1")
    assert report["extras"]["observed_run"]["stopped"] == "budget"
    affine = built(report, "Affine")
    assert affine["origin"] == "observed" and "x (4, 3)" in affine["shapes"]


def test_a_program_that_raises_is_a_finding_at_its_line_and_what_it_built_is_still_checked(tmp_path):
    path = write(tmp_path, "crash.py", BOOK_LAYERS + '''
layer = Affine(np.ones((3, 2)), np.zeros(2))
y = layer.forward(np.ones((4, 3)))
layer.backward(np.ones((4, 2)))
print(undefined_name)
''')
    report = check(path)
    stopped = [f for f in report["findings"] if f["name"] == "program-stopped"]
    assert [(f["line"], f["severity"]) for f in stopped] == [(line_of(path, "print(undefined_name)"), "info")]
    assert built(report, "Affine")["origin"] == "observed"


def test_a_file_inside_a_package_with_relative_imports_is_loaded_as_part_of_its_package(tmp_path):
    write(tmp_path, "nets/__init__.py", "")
    write(tmp_path, "nets/models/__init__.py", "")
    write(tmp_path, "nets/layers.py", BOOK_LAYERS)
    write(tmp_path, "nets/utils.py", """
        import numpy as np


        def batches(x, y, size, rng):
            order = rng.permutation(len(x))
            for i in range(0, len(x), size):
                yield x[order[i:i + size]], y[order[i:i + size]]
        """)
    path = write(tmp_path, "nets/models/train.py", """
        import numpy as np

        from ..layers import Affine, Relu, SoftmaxWithLoss
        from ..utils import batches

        if __name__ == "__main__":
            rng = np.random.default_rng(3)
            x = rng.normal(size=(200, 5))
            t = (x.sum(axis=1) > 0).astype(int)
            layers = [Affine(0.1 * rng.normal(size=(5, 16)), np.zeros(16)), Relu(), Affine(0.1 * rng.normal(size=(16, 2)), np.zeros(2))]
            head = SoftmaxWithLoss()
            for epoch in range(50):
                for xb, tb in batches(x, t, 20, rng):
                    out = xb
                    for layer in layers:
                        out = layer.forward(out)
                    head.forward(out, tb)
                    grad = head.backward()
                    for layer in reversed(layers):
                        grad = layer.backward(grad)
                    for layer in layers[::2]:
                        layer.W -= 0.05 * layer.dW
                        layer.b -= 0.05 * layer.db
        """)
    report = check(path)
    assert report["ok"], codes(report)
    assert not [f for f in report["findings"] if f["name"] in ("load-error", "nothing-to-check", "missing-module")]
    affines = [b for b in report["built"] if b["what"].startswith("Affine")]
    assert [(b["origin"], b["line"]) for b in affines] == [("observed", line_of(path, "layers = [Affine("))] * 2
    assert ["x (20, 5)" in affines[0]["shapes"], "x (20, 16)" in affines[1]["shapes"]] == [True, True]
    assert "x (20, 2), t (20,)" in built(report, "SoftmaxWithLoss")["shapes"]


def test_pyproject_can_turn_the_observed_run_off_and_the_flags_are_documented(tmp_path):
    path = write(tmp_path, "lstm.py", (Path(__file__).parent / "cases" / "observe_lstm.py").read_text())
    (tmp_path / "pyproject.toml").write_text("[tool.backprop-doctor]\nrun = false\nrun-budget = 3\n", encoding="utf-8")
    report = check(path)
    assert "observed_run" not in report["extras"]
    helped = subprocess.run([sys.executable, "-m", "backprop_doctor", "check", "--help"], capture_output=True, text=True)
    assert "--no-run" in helped.stdout and "--run-budget SECONDS" in helped.stdout


def test_a_run_budget_that_is_not_a_positive_number_is_a_usage_error(tmp_path):
    path = write(tmp_path, "lstm.py", (Path(__file__).parent / "cases" / "observe_lstm.py").read_text())
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--run-budget", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "run_budget=0" in result.stderr and "Traceback" not in result.stderr


def test_a_cs231n_classifier_whose_loss_returns_its_gradients_is_checked_on_its_training_batch(tmp_path):
    path = write(tmp_path, "neural_net.py", (Path(__file__).parent / "cases" / "observe_cs231n_classifier.py").read_text())
    report = check(path)
    assert report["ok"], codes(report)
    net = built(report, "TwoLayerNet")
    assert (net["origin"], net["line"], net["kind"]) == ("observed", line_of(path, "net = TwoLayerNet("), "network")
    assert "x (50, 10), y (50,)" in net["shapes"]
    assert {m["param"] for m in report["measurements"] if m["layer"] == "TwoLayerNet"} == {"W1", "b1", "W2", "b2"}

    broken = write(tmp_path / "broken", "neural_net.py", path.read_text().replace("grads['b1'] = dh.sum(axis=0)", "grads['b1'] = dh.sum(axis=0) / N"))
    report = check(broken)
    assert [(f["param"], f["severity"]) for f in report["findings"] if f["name"] == "gradient-mismatch"] == [("b1", "error")]


def test_function_pairs_and_a_loss_function_are_checked_on_the_arguments_the_script_passed(tmp_path):
    path = write(tmp_path, "layers.py", """
        import numpy as np


        def affine_forward(x, w, b):
            out = x.reshape(x.shape[0], -1).dot(w) + b
            return out, (x, w, b)


        def affine_backward(dout, cache):
            x, w, b = cache
            dx = dout.dot(w.T).reshape(x.shape)
            dw = x.reshape(x.shape[0], -1).T.dot(dout)
            db = dout.sum(axis=0)
            return dx, dw, db


        def svm_loss(x, y):
            N = x.shape[0]
            correct = x[np.arange(N), y]
            margins = np.maximum(0, x - correct[:, None] + 1.0)
            margins[np.arange(N), y] = 0
            loss = margins.sum() / N
            positive = (margins > 0).sum(axis=1)
            dx = (margins > 0).astype(float)
            dx[np.arange(N), y] -= positive
            return loss, dx / N


        if __name__ == "__main__":
            rng = np.random.RandomState(1)
            x = rng.randn(16, 3, 2, 2)
            y = rng.randint(0, 5, 16)
            w, b = 0.1 * rng.randn(12, 5), np.zeros(5)
            for step in range(200):
                scores, cache = affine_forward(x, w, b)
                loss, dscores = svm_loss(scores, y)
                dx, dw, db = affine_backward(dscores, cache)
                w -= 0.1 * dw
                b -= 0.1 * db
        """)
    report = check(path)
    assert report["ok"], codes(report)
    pair = built(report, "affine_forward/affine_backward")
    assert (pair["origin"], pair["line"]) == ("observed", line_of(path, "scores, cache = affine_forward("))
    assert pair["shapes"] == "x (16, 3, 2, 2), (12, 5), (5,)"
    loss = built(report, "svm_loss")
    assert loss["origin"] == "observed" and loss["shapes"] == "x (16, 5), t (16,)"


def test_a_missing_mnist_pkl_gz_read_by_a_loader_beside_the_file_is_synthetic(tmp_path):
    write(tmp_path, "src/mnist_loader.py", """
        import gzip
        import pickle


        def load_data():
            f = gzip.open('../data/mnist.pkl.gz', 'rb')
            training_data, validation_data, test_data = pickle.load(f, encoding="latin1")
            f.close()
            return training_data, validation_data, test_data
        """)
    path = write(tmp_path, "src/train.py", BOOK_LAYERS + '''
import mnist_loader

(x_train, y_train), _, _ = mnist_loader.load_data()
fc = Affine(0.01 * np.random.randn(784, 10), np.zeros(10))
head = SoftmaxWithLoss()
for i in range(100):
    loss = head.forward(fc.forward(x_train[:50]), y_train[:50])
    fc.backward(head.backward())
    fc.W -= 0.1 * fc.dW
''')
    report = check(path)
    assert report["ok"], codes(report)
    synthetic = [f for f in report["findings"] if f["name"] == "synthetic-data"]
    assert [(f["file"].endswith("mnist_loader.py"), f["line"]) for f in synthetic] == [(True, 7)]
    assert "x (50, 784)" in built(report, "Affine")["shapes"]
    assert "x (50, 10), t (50,)" in built(report, "SoftmaxWithLoss")["shapes"]
    assert not (tmp_path / "data").exists()


def test_a_stateful_time_rnn_is_checked_from_the_state_the_program_first_gave_it(tmp_path):
    path = write(tmp_path, "time_rnn.py", """
        import numpy as np


        class TimeRNN:
            def __init__(self, Wx, Wh, b, stateful=False):
                self.params = [Wx, Wh, b]
                self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
                self.h, self.stateful = None, stateful

            def forward(self, xs):
                Wx, Wh, b = self.params
                N, T, D = xs.shape
                if not self.stateful or self.h is None:
                    self.h = np.zeros((N, Wh.shape[0]))
                self.hs = np.empty((N, T + 1, Wh.shape[0]))
                self.hs[:, 0] = self.h
                for t in range(T):
                    self.hs[:, t + 1] = np.tanh(xs[:, t] @ Wx + self.hs[:, t] @ Wh + b)
                self.xs, self.h = xs, self.hs[:, -1]
                return self.hs[:, 1:].copy()

            def backward(self, dhs):
                Wx, Wh, b = self.params
                dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
                dxs = np.empty_like(self.xs)
                dh = np.zeros_like(self.h)
                for t in reversed(range(self.xs.shape[1])):
                    dt = (dhs[:, t] + dh) * (1 - self.hs[:, t + 1] ** 2)
                    dWx += self.xs[:, t].T @ dt
                    dWh += self.hs[:, t].T @ dt
                    db += dt.sum(axis=0)
                    dxs[:, t] = dt @ Wx.T
                    dh = dt @ Wh.T
                self.grads[0][...], self.grads[1][...], self.grads[2][...] = dWx, dWh, db
                return dxs


        rng = np.random.default_rng(0)
        rnn = TimeRNN(0.5 * rng.standard_normal((3, 4)), rng.standard_normal((4, 4)), np.zeros(4), stateful=True)
        for step in range(50):
            hs = rnn.forward(rng.standard_normal((2, 2, 3)))
            rnn.backward(hs - 0.5)
            for p, g in zip(rnn.params, rnn.grads):
                p -= 0.1 * g
        """)
    report = check(path)
    assert report["ok"], codes(report)
    rnn = built(report, "TimeRNN")
    assert rnn["origin"] == "observed" and "xs (2, 2, 3)" in rnn["shapes"]
    assert {m["param"] for m in report["measurements"] if m["layer"] == "TimeRNN"} == {"x", "Wx", "Wh", "b"}


def test_a_script_whose_loop_calls_none_of_its_own_functions_is_stopped_after_a_few_passes(tmp_path):
    # The loop body is numpy only: no call of the user's would count its passes. Run to the end it
    # takes minutes; the observed run stops it after a few passes, and the step is still replayed.
    path = write(tmp_path, "long_script.py", """
        import numpy as np

        np.random.seed(1)
        X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
        y = np.array([[0], [1], [1], [0]], dtype=float)
        syn0 = 2 * np.random.random((3, 4)) - 1
        syn1 = 2 * np.random.random((4, 1)) - 1
        for j in range(50_000_000):
            l1 = 1 / (1 + np.exp(-X @ syn0))
            l2 = 1 / (1 + np.exp(-l1 @ syn1))
            l2_delta = (y - l2) * l2 * (1 - l2)
            l1_delta = l2_delta @ syn1.T * l1 * (1 - l1)
            syn1 += l1.T @ l2_delta
            syn0 += X.T @ l1_delta
        print("never printed in a check")
    """)
    report = check(path, "--run-budget", "120")
    assert report["extras"]["observed_run"]["stopped"] == "enough"
    assert {p["name"] for p in report["extras"]["replay"][0]["parameters"]} == {"syn0", "syn1"}
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
