"""The replay walks a recurrent step backwards through time and names the step and the gate.

Hand-written RNNs and LSTMs store forward values per time step (`hs[t]`,
`cs[t]`, `fs[t]`) and run a backward loop over the steps in reverse. A bug
must be reported at its own statement with the time step where the gradient
first goes wrong; a bug in what is carried to the step before (`dhnext`) at the
carrying statement; twins with no bug get no error. Real files, real CLI.
"""

from __future__ import annotations

import pytest
from userfiles import check, errors, line_of, planted, replayed, write

# min-char-rnn style: one function computes the loss and the gradients of a sequence, Adagrad in the loop
RNN = """
import numpy as np

text = "hello world, hello there, hold the door " * 8
chars = sorted(set(text))
V, H, T = len(chars), 12, 9
to_ix = {c: i for i, c in enumerate(chars)}
rng = np.random.default_rng(11)
Wxh = rng.standard_normal((H, V)) * 0.1
Whh = rng.standard_normal((H, H)) * 0.1
Why = rng.standard_normal((V, H)) * 0.1
bh = np.zeros((H, 1))
by = np.zeros((V, 1))


def lossFun(inputs, targets, hprev):
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((V, 1))
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
    for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
        np.clip(dparam, -5, 5, out=dparam)
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


n, p = 0, 0
mWxh, mWhh, mWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
mbh, mby = np.zeros_like(bh), np.zeros_like(by)
learning_rate = 0.1
while n < 400:
    if p + T + 1 >= len(text) or n == 0:
        hprev = np.zeros((H, 1))
        p = 0
    inputs = [to_ix[ch] for ch in text[p:p + T]]
    targets = [to_ix[ch] for ch in text[p + 1:p + T + 1]]
    loss, dWxh, dWhh, dWhy, dbh, dby, hprev = lossFun(inputs, targets, hprev)
    for param, dparam, mem in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby], [mWxh, mWhh, mWhy, mbh, mby]):
        mem += dparam * dparam
        param += -learning_rate * dparam / np.sqrt(mem + 1e-8)
    p += T
    n += 1
"""

# an LSTM with one weight matrix per gate over [h; x], its states kept in dicts named `*_states`
LSTM = """
import numpy as np

rng = np.random.default_rng(5)
V, H, T = 6, 10, 7
Wf, Wi, Wo, Wg = (rng.standard_normal((H, H + V)) * 0.2 for _ in range(4))
bf, bi, bo, bg = (np.zeros((H, 1)) for _ in range(4))
Wy, by = rng.standard_normal((V, H)) * 0.2, np.zeros((V, 1))
params = dict(Wf=Wf, Wi=Wi, Wo=Wo, Wg=Wg, bf=bf, bi=bi, bo=bo, bg=bg, Wy=Wy, by=by)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def forward_backward(seq, h0, c0):
    z_states, f_states, i_states, o_states, g_states = {}, {}, {}, {}, {}
    h_states, c_states, p_states = {-1: h0}, {-1: c0}, {}
    loss = 0.0
    for t in range(len(seq) - 1):
        x = np.zeros((V, 1))
        x[seq[t]] = 1.0
        z_states[t] = np.concatenate([h_states[t - 1], x])
        f_states[t] = sigmoid(Wf @ z_states[t] + bf)
        i_states[t] = sigmoid(Wi @ z_states[t] + bi)
        o_states[t] = sigmoid(Wo @ z_states[t] + bo)
        g_states[t] = np.tanh(Wg @ z_states[t] + bg)
        c_states[t] = f_states[t] * c_states[t - 1] + i_states[t] * g_states[t]
        h_states[t] = o_states[t] * np.tanh(c_states[t])
        scores = Wy @ h_states[t] + by
        p_states[t] = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        loss -= np.log(p_states[t][seq[t + 1], 0])
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dh_next, dc_next = np.zeros((H, 1)), np.zeros((H, 1))
    for t in reversed(range(len(seq) - 1)):
        dscores = p_states[t].copy()
        dscores[seq[t + 1]] -= 1.0
        grads["Wy"] += dscores @ h_states[t].T
        grads["by"] += dscores
        dh = Wy.T @ dscores + dh_next
        dc = dc_next + dh * o_states[t] * (1.0 - np.tanh(c_states[t]) ** 2)
        df_in = dc * c_states[t - 1] * f_states[t] * (1.0 - f_states[t])
        di_in = dc * g_states[t] * i_states[t] * (1.0 - i_states[t])
        do_in = dh * np.tanh(c_states[t]) * o_states[t] * (1.0 - o_states[t])
        dg_in = dc * i_states[t] * (1.0 - g_states[t] ** 2)
        grads["Wf"] += df_in @ z_states[t].T
        grads["bf"] += df_in
        grads["Wi"] += di_in @ z_states[t].T
        grads["bi"] += di_in
        grads["Wo"] += do_in @ z_states[t].T
        grads["bo"] += do_in
        grads["Wg"] += dg_in @ z_states[t].T
        grads["bg"] += dg_in
        dz = Wf.T @ df_in + Wi.T @ di_in + Wo.T @ do_in + Wg.T @ dg_in
        dh_next = dz[:H]
        dc_next = f_states[t] * dc
    return loss, grads, h_states[len(seq) - 2], c_states[len(seq) - 2]


data = [int(v) for v in rng.integers(0, V, size=200)]
lr = 0.05
h, c = np.zeros((H, 1)), np.zeros((H, 1))
for step in range(300):
    start = (step * T) % (len(data) - T - 1)
    loss, grads, h, c = forward_backward(data[start:start + T + 1], h, c)
    for k in params:
        params[k] -= lr * grads[k]
"""


def step_finding(report: dict) -> dict:
    (finding,) = [f for f in errors(report) if f["name"] == "step-gradient-mismatch"]
    return finding


@pytest.mark.parametrize("name, text", [("min_char_rnn.py", RNN), ("lstm.py", LSTM)])
def test_a_correct_recurrent_program_gets_no_error(tmp_path, name, text):
    report = check(write(tmp_path, name, text))
    assert errors(report) == []
    assert not any(p["wrong"] for p in replayed(report)["parameters"])


def test_a_transposed_recurrent_weight_is_blamed_where_the_gradient_is_carried_to_the_step_before(tmp_path):
    path = planted(tmp_path, "min_char_rnn.py", RNN, "dhnext = np.dot(Whh.T, dhraw)", "dhnext = np.dot(Whh, dhraw)")
    finding = step_finding(check(path))
    assert finding["line"] == line_of(path, "dhnext = np.dot(Whh, dhraw)")
    assert "time step 7" in finding["message"] and "every gradient of time step 8 is right" in finding["message"]


def test_a_wrong_tanh_derivative_is_blamed_at_the_last_time_step(tmp_path):
    path = planted(tmp_path, "min_char_rnn.py", RNN, "dhraw = (1 - hs[t] * hs[t]) * dh", "dhraw = (1 - hs[t]) * dh")
    report = check(path)
    finding = step_finding(report)
    assert (finding["line"], finding["param"]) == (line_of(path, "dhraw = (1 - hs[t]) * dh"), "dhraw")
    assert "time step 8 (the last one" in finding["message"] and "`dy` and `dh` at that step are right" in finding["message"]
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    assert wrong == {"Wxh", "Whh", "bh"}  # the output layer is not in time: it stays right


def test_a_wrong_output_gradient_is_blamed_at_its_own_line_when_the_scores_are_stored(tmp_path):
    path = planted(tmp_path, "min_char_rnn.py", RNN, "dy[targets[t]] -= 1", "dy[targets[t]] -= 0.5")
    finding = step_finding(check(path))
    assert (finding["line"], finding["param"]) == (line_of(path, "dy[targets[t]] -= 0.5"), "dy")


def test_a_wrong_output_gradient_of_scores_kept_as_a_local_is_measured_at_its_own_line(tmp_path):
    stored = "ys[t] = np.dot(Why, hs[t]) + by\n        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))"
    assert stored in RNN
    unstored = RNN.replace(stored, "y = np.dot(Why, hs[t]) + by\n        ps[t] = np.exp(y) / np.sum(np.exp(y))")
    path = planted(tmp_path, "min_char_rnn.py", unstored, "dy[targets[t]] -= 1", "dy[targets[t]] -= 0.5")
    finding = step_finding(check(path))
    assert (finding["line"], finding["param"]) == (line_of(path, "dy[targets[t]] -= 0.5"), "dy")
    assert f"the forward statement of `y` (line {line_of(path, 'y = np.dot(Why, hs[t]) + by')})" in finding["message"]


def test_a_wrong_output_gradient_that_cannot_be_measured_is_named_by_the_first_adjoint_it_feeds(tmp_path):
    stored = "ys[t] = np.dot(Why, hs[t]) + by\n        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))"
    assert stored in RNN
    inline = RNN.replace(stored, "ps[t] = np.exp(np.dot(Why, hs[t]) + by) / np.sum(np.exp(np.dot(Why, hs[t]) + by))")
    path = planted(tmp_path, "min_char_rnn.py", inline, "dy[targets[t]] -= 1", "dy[targets[t]] -= 0.5")
    finding = step_finding(check(path))
    assert finding["line"] == line_of(path, "dh = np.dot(Why.T, dy) + dhnext")
    assert f"`dy` (line {line_of(path, 'dy[targets[t]] -= 0.5')})" in finding["message"]


def test_a_forget_gate_using_the_current_cell_state_is_named_with_its_gate_and_step(tmp_path):
    path = planted(
        tmp_path, "lstm.py", LSTM,
        "df_in = dc * c_states[t - 1] * f_states[t]", "df_in = dc * c_states[t] * f_states[t]",
    )  # fmt: skip
    report = check(path)
    finding = step_finding(report)
    assert (finding["line"], finding["param"]) == (line_of(path, "df_in = dc * c_states[t] * f_states[t]"), "df_in")
    assert "the forget gate" in finding["message"] and "time step 6 (the last one" in finding["message"]
    measured = [a["name"] for a in replayed(report)["adjoints"]]
    assert measured[-1] == "df_in" and {"dh", "dc"} <= set(measured[:-1])  # the gradients before it, at that step, were measured right


def test_a_cell_gradient_not_carried_through_the_forget_gate_is_blamed_at_the_carrying_line(tmp_path):
    path = planted(tmp_path, "lstm.py", LSTM, "dc_next = f_states[t] * dc", "dc_next = dc")
    finding = step_finding(check(path))
    assert finding["line"] == line_of(path, "dc_next = dc")
    assert "`dc_next`" in finding["message"] and "time step 5" in finding["message"]


def _reads_its_text(program: str) -> str:
    """The RNN program reading its characters from `input.txt`, as char-RNN scripts do."""
    text_line = 'text = "hello world, hello there, hold the door " * 8'
    assert text_line in program
    return program.replace(text_line, 'text = open("input.txt", "r").read()')


def test_a_char_rnn_whose_input_txt_is_missing_reads_synthetic_text_and_is_checked(tmp_path):
    path = write(tmp_path, "min_char_rnn.py", _reads_its_text(RNN))
    report = check(path)
    assert errors(report) == []
    assert len(replayed(report)["parameters"]) == 5
    (synthetic,) = [f for f in report["findings"] if f["name"] == "synthetic-data"]
    assert "input.txt" in synthetic["message"] and synthetic["line"] == line_of(path, 'open("input.txt"')
    assert not (tmp_path / "input.txt").exists()  # nothing written beside the user's file


def test_a_char_rnn_with_its_own_input_txt_reads_it_and_says_nothing_about_synthetic_data(tmp_path):
    (tmp_path / "input.txt").write_text("abcabcabd cab bad dab " * 20, encoding="utf-8")
    report = check(write(tmp_path, "min_char_rnn.py", _reads_its_text(RNN)))
    assert errors(report) == []
    assert not any(f["name"] == "synthetic-data" for f in report["findings"])
    assert len(replayed(report)["parameters"]) == 5


def test_a_gradient_overwritten_in_the_backward_loop_is_named_where_it_is_overwritten(tmp_path):
    """`dby = dy` where `dby += dy` belongs: the sum keeps only the first time step's term. The line is
    the one in the loop, not the `np.zeros_like(by)` it starts from."""
    path = planted(tmp_path, "min_char_rnn.py", RNN, "dby += dy", "dby = dy")
    finding = step_finding(check(path))
    assert (finding["param"], finding["line"]) == ("by", line_of(path, "dby = dy"))
