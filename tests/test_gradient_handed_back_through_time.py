"""Backpropagation through time whose recurrence sends the hidden state's gradient back through the
recurrent weights untransposed (`dstate = dpre @ W` where `dpre @ W.T` belongs; `W` is square, so the shapes
hide it). The statement comes after the parameter gradients it spoils in the loop over the time steps, and
only the passes after the first read it: the verdict names it, with its fix, not the accumulation of the
gradients it feeds. Correct twins are clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

# a function returning the loss and a dictionary of gradients, the states kept in a list, batch first
FUNCTION = """\
    # sequence classifier: a tanh RNN over T steps, softmax on the last state
    import numpy as np


    def init_params(D, H, C, seed=0):
        rng = np.random.default_rng(seed)
        return {
            "U": rng.normal(0, 0.3, (D, H)),
            "W": rng.normal(0, 0.3, (H, H)),
            "bh": np.zeros(H),
            "V": rng.normal(0, 0.3, (H, C)),
            "bc": np.zeros(C),
        }


    def rnn_loss(params, X, labels):
        U, W, V = params["U"], params["W"], params["V"]
        N, T, _ = X.shape
        states = [np.zeros((N, W.shape[0]))]
        for t in range(T):
            states.append(np.tanh(X[:, t] @ U + states[-1] @ W + params["bh"]))
        logits = states[-1] @ V + params["bc"]
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(N), labels]).mean()

        grads = {name: np.zeros_like(value) for name, value in params.items()}
        dlogits = probs.copy()
        dlogits[np.arange(N), labels] -= 1
        dlogits /= N
        grads["V"] = states[-1].T @ dlogits
        grads["bc"] = dlogits.sum(axis=0)
        dstate = dlogits @ V.T
        for t in range(T - 1, -1, -1):
            dpre = dstate * (1 - states[t + 1] ** 2)
            grads["U"] += X[:, t].T @ dpre
            grads["W"] += states[t].T @ dpre
            grads["bh"] += dpre.sum(axis=0)
            dstate = dpre @ W.T
        return loss, grads


    rng = np.random.default_rng(2)
    X = rng.normal(size=(64, 7, 4))
    labels = (X[:, :, 1].sum(axis=1) > 0).astype(int)
    params = init_params(4, 6, 2)
    for it in range(200):
        loss, grads = rnn_loss(params, X, labels)
        for name in params:
            params[name] -= 0.3 * grads[name]
        if it % 50 == 0:
            print(it, loss)
"""

# a layer class whose backward walks the time steps and returns dx, leaving dWx, dWh, db on the instance
LAYER = """\
    import numpy as np


    class RNNLayer:
        # many-to-many tanh RNN over a batch: x is (N, T, D), the states (N, T, H)

        def __init__(self, input_dim, hidden_dim, seed=0):
            rng = np.random.default_rng(seed)
            self.Wx = rng.normal(0, 0.4, (input_dim, hidden_dim))
            self.Wh = rng.normal(0, 0.4, (hidden_dim, hidden_dim))
            self.b = np.zeros(hidden_dim)

        def forward(self, x):
            N, T, _ = x.shape
            H = self.Wh.shape[0]
            self.x = x
            self.h = np.zeros((N, T + 1, H))
            for t in range(T):
                self.h[:, t + 1] = np.tanh(x[:, t] @ self.Wx + self.h[:, t] @ self.Wh + self.b)
            return self.h[:, 1:]

        def backward(self, dout):
            N, T, _ = self.x.shape
            dx = np.zeros_like(self.x)
            self.dWx = np.zeros_like(self.Wx)
            self.dWh = np.zeros_like(self.Wh)
            self.db = np.zeros_like(self.b)
            dnext = np.zeros((N, self.Wh.shape[0]))
            for t in reversed(range(T)):
                dh = dout[:, t] + dnext
                draw = dh * (1 - self.h[:, t + 1] ** 2)
                dx[:, t] = draw @ self.Wx.T
                self.dWx += self.x[:, t].T @ draw
                self.dWh += self.h[:, t].T @ draw
                self.db += draw.sum(axis=0)
                dnext = draw @ self.Wh.T
            return dx


    rng = np.random.default_rng(3)
    X = rng.normal(size=(16, 6, 3))
    Y = np.cumsum(X[:, :, :1], axis=1) * 0.3
    rnn = RNNLayer(3, 5)
    W_out = rng.normal(0, 0.4, (5, 1))
    for step in range(150):
        hs = rnn.forward(X)
        pred = hs @ W_out
        loss = 0.5 * np.mean((pred - Y) ** 2)
        dpred = (pred - Y) / pred.size
        dW_out = np.einsum("nth,nto->ho", hs, dpred)
        rnn.backward(dpred @ W_out.T)
        W_out -= 0.5 * dW_out
        rnn.Wx -= 0.5 * rnn.dWx
        rnn.Wh -= 0.5 * rnn.dWh
        rnn.b -= 0.5 * rnn.db
        if step % 50 == 0:
            print(step, loss)
"""

# min-char-rnn: one function runs the whole pass over module-level weights, column vectors, `dhnext`
CHARACTERS = """\
    import numpy as np

    data = "hello world, hello rnn. " * 8
    chars = sorted(set(data))
    vocab_size = len(chars)
    char_to_ix = {ch: i for i, ch in enumerate(chars)}

    hidden_size = 12
    seq_length = 10
    learning_rate = 1e-1

    rng = np.random.RandomState(7)
    Wxh = rng.randn(hidden_size, vocab_size) * 0.1
    Whh = rng.randn(hidden_size, hidden_size) * 0.1
    Why = rng.randn(vocab_size, hidden_size) * 0.1
    bh = np.zeros((hidden_size, 1))
    by = np.zeros((vocab_size, 1))


    def lossFun(inputs, targets, hprev):
        xs, hs, ys, ps = {}, {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0
        for t in range(len(inputs)):
            xs[t] = np.zeros((vocab_size, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
            ys[t] = np.dot(Why, hs[t]) + by
            ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += np.dot(dy, hs[t].T)
            dby += dy
            dh = np.dot(Why.T, dy) + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += np.dot(dhraw, xs[t].T)
            dWhh += np.dot(dhraw, hs[t - 1].T)
            dhnext = np.dot(Whh.T, dhraw)
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


    mWxh, mWhh, mWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    mbh, mby = np.zeros_like(bh), np.zeros_like(by)
    n, p = 0, 0
    hprev = np.zeros((hidden_size, 1))
    while n < 60:
        if p + seq_length + 1 >= len(data):
            hprev = np.zeros((hidden_size, 1))
            p = 0
        inputs = [char_to_ix[ch] for ch in data[p:p + seq_length]]
        targets = [char_to_ix[ch] for ch in data[p + 1:p + seq_length + 1]]
        loss, dWxh, dWhh, dWhy, dbh, dby, hprev = lossFun(inputs, targets, hprev)
        for param, dparam, mem in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby], [mWxh, mWhh, mWhy, mbh, mby]):
            np.clip(dparam, -5, 5, out=dparam)
            mem += dparam * dparam
            param += -learning_rate * dparam / np.sqrt(mem + 1e-8)
        if n % 20 == 0:
            print("iter %d, loss: %f" % (n, loss))
        p += seq_length
        n += 1
"""

PROGRAMS = {"function": FUNCTION, "layer": LAYER, "characters": CHARACTERS}

# (program, the right recurrence, its untransposed twin)
RECURRENCES = {
    "function": (FUNCTION, "dstate = dpre @ W.T", "dstate = dpre @ W"),
    "layer": (LAYER, "dnext = draw @ self.Wh.T", "dnext = draw @ self.Wh"),
    "characters": (CHARACTERS, "dhnext = np.dot(Whh.T, dhraw)", "dhnext = np.dot(Whh, dhraw)"),
}


@pytest.mark.parametrize("style", sorted(PROGRAMS))
def test_right_programs_are_clean(tmp_path: Path, style: str) -> None:
    report = check(planted(tmp_path, "rnn.py", PROGRAMS[style], "import numpy as np", "import numpy as np"))
    assert errors(report) == []


@pytest.mark.parametrize("style", sorted(RECURRENCES))
def test_the_recurrence_is_named(tmp_path: Path, style: str) -> None:
    program, correct, wrong = RECURRENCES[style]
    path = planted(tmp_path, "rnn.py", program, correct, wrong)
    found = errors(check(path))
    assert found and found[0]["line"] == line_of(path, wrong), found
    assert all(f["caused_by"] for f in found[1:]), found


@pytest.mark.parametrize("style", ["function", "layer"])
def test_the_fix_is_the_transpose(tmp_path: Path, style: str) -> None:
    program, correct, wrong = RECURRENCES[style]
    path = planted(tmp_path, "rnn.py", program, correct, wrong)
    first = errors(check(path))[0]
    assert first["pattern"] == "wrong-for-the-next-pass", first
    assert f"write `{correct}`" in first["message"], first["message"]
    assert "what the loop hands on to its next pass" in first["message"], first["message"]
