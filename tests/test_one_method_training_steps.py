"""A model whose one method is a whole training step, pasted with no program that calls it.

`training_step(inputs, targets, learning_rate)` runs the forward pass over time, the walk back,
a clip of every gradient and an Adagrad update of the model's attributes in a loop over them
(`for param, dparam, mem in zip([self.Wxh, ...], [dWxh, ...], [self.mWxh, ...])`). The update
writes into the loop's variable, so the step is found from the attributes the loop hands it,
and it starts at the method's first line: the loops over time and the clip before the update
are part of it. The replay's driver builds the model with a vocabulary and calls the method on
one sequence of token ids, or on a batch of them when the method walks each time step's ids
(`for i, ix in enumerate(inputs[t])`) and the constructor takes a batch size.
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted, replayed, step_verdicts

CELL = """
import numpy as np


class CharRNN:
    def __init__(self, hidden_size, vocab_size):
        self.vocab_size = vocab_size
        self.h = np.zeros((hidden_size, 1))
        self.Wxh = np.random.randn(hidden_size, vocab_size) * 0.1
        self.Whh = np.random.randn(hidden_size, hidden_size) * 0.1
        self.Why = np.random.randn(vocab_size, hidden_size) * 0.1
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((vocab_size, 1))
        self.mWxh, self.mWhh, self.mWhy = np.zeros_like(self.Wxh), np.zeros_like(self.Whh), np.zeros_like(self.Why)
        self.mbh, self.mby = np.zeros_like(self.bh), np.zeros_like(self.by)

    def training_step(self, inputs, targets, learning_rate):
        xs, hs, ps = {}, {}, {}
        hs[-1] = np.copy(self.h)
        loss = 0
        for t in range(len(inputs)):
            xs[t] = np.zeros((self.vocab_size, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(self.Wxh @ xs[t] + self.Whh @ hs[t - 1] + self.bh)
            ys = self.Why @ hs[t] + self.by
            ps[t] = np.exp(ys) / np.sum(np.exp(ys))
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(self.Wxh), np.zeros_like(self.Whh), np.zeros_like(self.Why)
        dbh, dby = np.zeros_like(self.bh), np.zeros_like(self.by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = self.Why.T @ dy + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += dhraw @ xs[t].T
            dWhh += dhraw @ hs[t - 1].T
            dhnext = self.Whh.T @ dhraw
        for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
            np.clip(dparam, -5, 5, out=dparam)
        self.h = hs[len(inputs) - 1]
        for param, dparam, mem in zip([self.Wxh, self.Whh, self.Why, self.bh, self.by],
                                      [dWxh, dWhh, dWhy, dbh, dby],
                                      [self.mWxh, self.mWhh, self.mWhy, self.mbh, self.mby]):
            mem += dparam * dparam
            param += -learning_rate * dparam / np.sqrt(mem + 1e-8)
        return loss
"""

TANH_SLOPE = "dhraw = (1 - hs[t] * hs[t]) * dh"
TANH_SLOPE_LEFT_OUT = "dhraw = dh"

BATCHED = """
import numpy as np


class BatchedRNN:
    def __init__(self, hidden_size, vocab_size, batch_size):
        self.vocab_size, self.batch_size = vocab_size, batch_size
        self.h = np.zeros((hidden_size, batch_size))
        self.Wxh = np.random.randn(hidden_size, vocab_size) * 0.1
        self.Whh = np.random.randn(hidden_size, hidden_size) * 0.1
        self.Why = np.random.randn(vocab_size, hidden_size) * 0.1
        self.by = np.zeros((vocab_size, 1))
        self.mWxh, self.mWhh = np.zeros_like(self.Wxh), np.zeros_like(self.Whh)
        self.mWhy, self.mby = np.zeros_like(self.Why), np.zeros_like(self.by)

    def training_step(self, inputs, targets, learning_rate):
        xs, hs, ps = {}, {}, {}
        hs[-1] = np.copy(self.h)
        loss = 0
        for t in range(len(inputs)):
            xs[t] = np.zeros((self.vocab_size, self.batch_size))
            for i, ix in enumerate(inputs[t]):
                xs[t][ix, i] = 1
            hs[t] = np.tanh(self.Wxh @ xs[t] + self.Whh @ hs[t - 1])
            ys = self.Why @ hs[t] + self.by
            ps[t] = np.exp(ys) / np.sum(np.exp(ys), axis=0)
            for i, ix in enumerate(targets[t]):
                loss += -np.log(ps[t][ix, i])
        dWxh, dWhh, dWhy = np.zeros_like(self.Wxh), np.zeros_like(self.Whh), np.zeros_like(self.Why)
        dby = np.zeros_like(self.by)
        dhnext = np.zeros_like(self.h)
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            for i, ix in enumerate(targets[t]):
                dy[ix, i] -= 1
            dWhy += dy @ hs[t].T
            dby += np.sum(dy, axis=1, keepdims=True)
            dhraw = (1 - hs[t] * hs[t]) * (self.Why.T @ dy + dhnext)
            dWxh += dhraw @ xs[t].T
            dWhh += dhraw @ hs[t - 1].T
            dhnext = self.Whh.T @ dhraw
        self.h = hs[len(inputs) - 1]
        for param, dparam, mem in zip([self.Wxh, self.Whh, self.Why, self.by],
                                      [dWxh, dWhh, dWhy, dby],
                                      [self.mWxh, self.mWhh, self.mWhy, self.mby]):
            mem += dparam * dparam
            param += -learning_rate * dparam / np.sqrt(mem + 1e-8)
        return loss
"""

BIAS_PER_ROW = "dby += np.sum(dy, axis=1, keepdims=True)"
BIAS_SUMMED_WHOLE = "dby += np.sum(dy)"


def test_a_correct_one_method_step_is_driven_on_token_ids_and_gets_no_error(tmp_path: Path) -> None:
    path = planted(tmp_path, "char_rnn.py", CELL, TANH_SLOPE, TANH_SLOPE)
    report = check(path)
    assert errors(report) == []
    assert "token ids" in replayed(report)["driver"]
    assert step_verdicts(report) == {name: "ok" for name in ("self.Wxh", "self.Whh", "self.Why", "self.bh", "self.by")}


def test_a_tanh_slope_left_out_of_a_one_method_step_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "char_rnn.py", CELL, TANH_SLOPE, TANH_SLOPE_LEFT_OUT)
    report = check(path)
    (finding,) = errors(report)
    assert (finding["code"], finding["param"], finding["pattern"]) == ("BPD108", "dhraw", "missing-activation-derivative")
    assert finding["line"] == line_of(path, TANH_SLOPE_LEFT_OUT)
    assert "multiply `dhraw` by tanh's derivative, `(1 - hs[t] ** 2)`" in finding["message"]
    wrong = {name for name, verdict in step_verdicts(report).items() if verdict != "ok"}
    assert wrong == {"self.Wxh", "self.Whh", "self.bh"}  # the output layer's gradients do not go through the tanh


def test_a_correct_batched_step_is_driven_on_a_batch_of_token_sequences(tmp_path: Path) -> None:
    path = planted(tmp_path, "batched_rnn.py", BATCHED, BIAS_PER_ROW, BIAS_PER_ROW)
    report = check(path)
    assert errors(report) == []
    assert "4 sequences of 6 token ids" in replayed(report)["driver"]
    assert "batch_size=4" in replayed(report)["driver"]
    assert step_verdicts(report) == {name: "ok" for name in ("self.Wxh", "self.Whh", "self.Why", "self.by")}


def test_a_bias_gradient_summed_over_the_whole_array_is_found_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "batched_rnn.py", BATCHED, BIAS_PER_ROW, BIAS_SUMMED_WHOLE)
    report = check(path)
    (finding,) = errors(report)
    assert (finding["code"], finding["param"]) == ("BPD108", "self.by")
    assert finding["line"] == line_of(path, BIAS_SUMMED_WHOLE)


SCRIPT = """
import numpy as np

data = "a small corpus for a small recurrent net " * 3
chars = sorted(set(data))
vocab_size = len(chars)
ix = {c: i for i, c in enumerate(chars)}
hidden_size, seq_length, learning_rate = 10, 8, 0.1
Wxh = np.random.randn(hidden_size, vocab_size) * 0.1
Whh = np.random.randn(hidden_size, hidden_size) * 0.1
Why = np.random.randn(vocab_size, hidden_size) * 0.1
bh, by = np.zeros((hidden_size, 1)), np.zeros((vocab_size, 1))
hprev = np.zeros((hidden_size, 1))
p = 0
for n in range(100):
    if p + seq_length + 1 >= len(data):
        p, hprev = 0, np.zeros((hidden_size, 1))
    inputs = [ix[c] for c in data[p:p + seq_length]]
    targets = [ix[c] for c in data[p + 1:p + seq_length + 1]]
    xs, hs, ps = {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        ys = Why @ hs[t] + by
        ps[t] = np.exp(ys) / np.sum(np.exp(ys))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ hs[t - 1].T
        dhnext = Whh.T @ dhraw
    hprev = hs[len(inputs) - 1]
    for param, dparam in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby]):
        param -= learning_rate * dparam
    p += seq_length
"""

CARRIED = "dhnext = Whh.T @ dhraw"
CARRIED_UNTRANSPOSED = "dhnext = Whh @ dhraw"


def test_a_correct_script_with_its_loops_over_time_in_the_training_loop_gets_no_error(tmp_path: Path) -> None:
    path = planted(tmp_path, "min_char_rnn.py", SCRIPT, TANH_SLOPE, TANH_SLOPE)
    report = check(path)
    assert errors(report) == []
    assert step_verdicts(report) == {name: "ok" for name in ("Wxh", "Whh", "Why", "bh", "by")}


def test_a_tanh_slope_left_out_of_a_scripts_backward_over_time_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "min_char_rnn.py", SCRIPT, TANH_SLOPE, TANH_SLOPE_LEFT_OUT)
    report = check(path)
    (finding,) = errors(report)
    assert (finding["param"], finding["pattern"], finding["line"]) == ("dhraw", "missing-activation-derivative", line_of(path, TANH_SLOPE_LEFT_OUT))
    assert "time step 7 (the last one" in finding["message"]


def test_a_wrong_gradient_carried_back_a_time_step_is_named_at_the_carrying_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "min_char_rnn.py", SCRIPT, CARRIED, CARRIED_UNTRANSPOSED)
    report = check(path)
    (finding,) = errors(report)
    assert (finding["pattern"], finding["line"]) == ("through-time", line_of(path, CARRIED_UNTRANSPOSED))
    assert "from step 7 back to step 6" in finding["message"]
