"""A recurrent model whose `fit`/`train` method runs the forward pass through time, the BPTT and the
update inline (no backward method), in a file that never calls it: driven on a synthetic batch of
sequences (samples, time, features) when the method walks the time axis (`X.transpose(1, 0, 2)`,
`X[:, t, :]`), the constructor's sequence length set to the batch's. Correct models are clean, a
planted wrong gradient is named at its line."""

import pytest

from tests.userfiles import check, line_of, planted, write

# time-major by a transpose, a squared error of the last state's projection, weights as attributes
TRANSPOSED = """
    import numpy as np


    class ElmanRegressor:
        def __init__(self, input_size, hidden_size, output_size):
            self.Wx = np.random.randn(hidden_size, input_size) * 0.3
            self.Wh = np.random.randn(hidden_size, hidden_size) * 0.3
            self.Wy = np.random.randn(output_size, hidden_size) * 0.3
            self.hidden_size = hidden_size

        def fit(self, X, Y, epochs=5, lr=0.05):
            for epoch in range(epochs):
                xs = X.transpose(1, 0, 2)
                h = np.zeros((X.shape[0], self.hidden_size))
                hs = [h]
                for t in range(xs.shape[0]):
                    h = np.tanh(xs[t] @ self.Wx.T + h @ self.Wh.T)
                    hs.append(h)
                pred = h @ self.Wy.T
                dpred = 2 * (pred - Y) / X.shape[0]
                dWy = dpred.T @ h
                dh = dpred @ self.Wy
                dWx = np.zeros_like(self.Wx)
                dWh = np.zeros_like(self.Wh)
                for t in reversed(range(xs.shape[0])):
                    dz = dh * (1 - hs[t + 1] ** 2)
                    dWx += dz.T @ xs[t]
                    dWh += dz.T @ hs[t]
                    dh = dz @ self.Wh
                self.Wx -= lr * dWx
                self.Wh -= lr * dWh
                self.Wy -= lr * dWy
"""

# one time step of every sequence by `inputs[:, t, :]`, softmax cross-entropy over integer labels of
# the last state, a sequence length given to the constructor, biases, a loss computed in the loop
SLICED = """
    import numpy as np


    class SequenceClassifier:
        def __init__(self, n_features, n_hidden, n_classes, seq_len):
            rng = np.random.default_rng(1)
            self.U = rng.normal(scale=0.3, size=(n_features, n_hidden))
            self.V = rng.normal(scale=0.3, size=(n_hidden, n_hidden))
            self.b = np.zeros(n_hidden)
            self.W = rng.normal(scale=0.3, size=(n_hidden, n_classes))
            self.c = np.zeros(n_classes)
            self.seq_len = seq_len

        def train(self, inputs, labels, epochs=10, learning_rate=0.1):
            n = inputs.shape[0]
            for _ in range(epochs):
                states = [np.zeros((n, self.V.shape[0]))]
                for t in range(self.seq_len):
                    states.append(np.tanh(inputs[:, t, :] @ self.U + states[-1] @ self.V + self.b))
                scores = states[-1] @ self.W + self.c
                e = np.exp(scores - scores.max(axis=1, keepdims=True))
                probs = e / e.sum(axis=1, keepdims=True)
                loss = -np.mean(np.log(probs[np.arange(n), labels]))
                dscores = probs.copy()
                dscores[np.arange(n), labels] -= 1
                dscores /= n
                dW = states[-1].T @ dscores
                dc = dscores.sum(axis=0)
                dstate = dscores @ self.W.T
                dU, dV, db = np.zeros_like(self.U), np.zeros_like(self.V), np.zeros_like(self.b)
                for t in range(self.seq_len - 1, -1, -1):
                    da = dstate * (1 - states[t + 1] ** 2)
                    dU += inputs[:, t, :].T @ da
                    dV += states[t].T @ da
                    db += da.sum(axis=0)
                    dstate = da @ self.V.T
                self.U -= learning_rate * dU
                self.V -= learning_rate * dV
                self.b -= learning_rate * db
                self.W -= learning_rate * dW
                self.c -= learning_rate * dc
            return loss
"""

CASES = [
    pytest.param(TRANSPOSED, "dWh += dz.T @ hs[t]", "dWh += dz.T @ hs[t + 1]", id="transposed-fit"),
    pytest.param(SLICED, "db += da.sum(axis=0)", "db += dstate.sum(axis=0)", id="sliced-train"),
]


@pytest.mark.parametrize(("source", "correct", "wrong"), CASES)
def test_a_correct_model_training_through_time_in_its_fit_method_is_driven_and_clean(tmp_path, source, correct, wrong):
    report = check(write(tmp_path, "rnn.py", source))
    assert report["verdict"].startswith("✓"), report["verdict"]
    assert report["measurements"] and all(m["verdict"] == "ok" for m in report["measurements"]), report["measurements"]


@pytest.mark.parametrize(("source", "correct", "wrong"), CASES)
def test_a_wrong_gradient_through_time_in_a_fit_method_is_named_at_its_line(tmp_path, source, correct, wrong):
    path = planted(tmp_path, "rnn.py", source, correct, wrong)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error" and root["line"] == line_of(path, wrong), root
