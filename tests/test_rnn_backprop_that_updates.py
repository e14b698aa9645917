"""A recurrent network whose `backprop` computes its gradients through time and updates its weights
in one method (the shape of Victor Zhou's many-to-one RNN): the hidden state is kept per step under
a shifted key (`self.last_hs[i + 1] = h`) while the loop goes on with the local `h`. A hidden-state
gradient sent back through `Whh` instead of `Whh.T` makes three weights wrong at once; the walk
through time names the statement that carries it (`d_h = ...`), not their zero-initialisations."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

RNN = '''\
import numpy as np


class RNN:
    def __init__(self, input_size, output_size, hidden_size=12):
        self.Whh = np.random.randn(hidden_size, hidden_size) * 0.3
        self.Wxh = np.random.randn(hidden_size, input_size) * 0.3
        self.Why = np.random.randn(output_size, hidden_size) * 0.3
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((output_size, 1))

    def forward(self, inputs):
        h = np.zeros((self.Whh.shape[0], 1))
        self.last_inputs = inputs
        self.last_hs = {0: h}
        for i, x in enumerate(inputs):
            h = np.tanh(self.Wxh @ x + self.Whh @ h + self.bh)
            self.last_hs[i + 1] = h
        return self.Why @ h + self.by

    def backprop(self, d_y, learn_rate=0.05):
        n = len(self.last_inputs)
        d_Why = d_y @ self.last_hs[n].T
        d_by = d_y
        d_Whh = np.zeros(self.Whh.shape)
        d_Wxh = np.zeros(self.Wxh.shape)
        d_bh = np.zeros(self.bh.shape)
        d_h = self.Why.T @ d_y
        for t in reversed(range(n)):
            temp = (1 - self.last_hs[t + 1] ** 2) * d_h
            d_bh += temp
            d_Whh += temp @ self.last_hs[t].T
            d_Wxh += temp @ self.last_inputs[t].T
            d_h = self.Whh.T @ temp
        self.Whh -= learn_rate * d_Whh
        self.Wxh -= learn_rate * d_Wxh
        self.Why -= learn_rate * d_Why
        self.bh -= learn_rate * d_bh
        self.by -= learn_rate * d_by


def softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


np.random.seed(2)
vocab = 5
data = [([np.eye(vocab)[[k]].T for k in np.random.randint(0, vocab, 4)], np.random.randint(0, 2)) for _ in range(30)]
rnn = RNN(vocab, 2)
for epoch in range(20):
    for inputs, target in data:
        probs = softmax(rnn.forward(inputs))
        loss = -np.log(probs[target, 0])
        d_y = probs.copy()
        d_y[target] -= 1
        rnn.backprop(d_y)
'''


def test_the_right_rnn_gets_no_error(tmp_path):
    assert errors(check(write(tmp_path, "rnn.py", RNN))) == []


def test_a_hidden_gradient_through_the_untransposed_weights_is_named_where_it_is_carried(tmp_path):
    path = planted(tmp_path, "rnn.py", RNN, "d_h = self.Whh.T @ temp", "d_h = self.Whh @ temp")
    found = errors(check(path))
    assert len(found) == 1
    (finding,) = found
    assert (finding["param"], finding["line"]) == ("d_h", line_of(path, "d_h = self.Whh @ temp"))
    assert "`self.last_hs[" in finding["message"] and "the hidden state" in finding["message"]
    for weight in ("rnn.Whh", "rnn.Wxh", "rnn.bh"):
        assert f"`{weight}`" in finding["message"]


def test_a_gradient_summed_over_time_is_computed_where_it_is_summed(tmp_path):
    # a wrong accumulation the walk does not reach (the derivative of tanh left out of `d_bh` alone):
    # the gradient is "computed" at its `+=`, never at its `np.zeros`
    path = planted(tmp_path, "rnn.py", RNN, "            d_bh += temp\n", "            d_bh += d_h\n")
    found = errors(check(path))
    (finding,) = [f for f in found if f["param"] == "rnn.bh"]
    assert finding["line"] == line_of(path, "d_bh += d_h")
    assert f"computed at line {line_of(path, 'd_bh += d_h')}" in finding["message"]
