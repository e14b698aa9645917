"""A file of two module-level functions, a forward pass that returns what it computed over a sequence
and a backward pass that takes that back with the targets and the weights and returns `(loss, grads)`,
the weights one list or tuple that only the program beside the file makes (`main.py` importing
`forward_pass, backward_pass` and building the list with a function of its own).

Checked alone, the file is checked on the first calls that program makes (run as a script until the
backward is called, and stopped there): the returned gradients, in the weights' order, against the
returned loss as a function of the weights through the forward pass.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

# an LSTM over one-hot columns; the weights a list made by the driver; `return loss, grads`
LSTM_PASSES = 'import numpy as np\n\n\ndef sig(a):\n    return 1.0 / (1.0 + np.exp(-a))\n\n\ndef forward_pass(n_hidden, inputs, h, c, p):\n    Wf, Wi, Wc, Wo, Wy, bf, bi, bc, bo, by = p\n    zs, fs, is_, cs_hat, cs, os_, hs, ps = [], [], [], [], [c], [], [h], []\n    for x in inputs:\n        z = np.vstack((h, x))\n        f = sig(Wf @ z + bf)\n        i = sig(Wi @ z + bi)\n        c_hat = np.tanh(Wc @ z + bc)\n        c = f * c + i * c_hat\n        o = sig(Wo @ z + bo)\n        h = o * np.tanh(c)\n        s = Wy @ h + by\n        e = np.exp(s - s.max())\n        zs.append(z); fs.append(f); is_.append(i); cs_hat.append(c_hat)\n        cs.append(c); os_.append(o); hs.append(h); ps.append(e / e.sum())\n    return zs, fs, is_, cs_hat, cs, os_, hs, ps\n\n\ndef backward_pass(n_hidden, zs, fs, is_, cs_hat, cs, os_, hs, ps, targets, p):\n    Wf, Wi, Wc, Wo, Wy, bf, bi, bc, bo, by = p\n    grads = [np.zeros_like(w) for w in p]\n    dWf, dWi, dWc, dWo, dWy, dbf, dbi, dbc, dbo, dby = grads\n    dh_next = np.zeros_like(hs[0])\n    dc_next = np.zeros_like(cs[0])\n    loss = 0.0\n    for t in reversed(range(len(ps))):\n        loss += -np.sum(targets[t] * np.log(ps[t]))\n        ds = ps[t] - targets[t]\n        dWy += ds @ hs[t + 1].T\n        dby += ds\n        dh = Wy.T @ ds + dh_next\n        tc = np.tanh(cs[t + 1])\n        do = dh * tc * os_[t] * (1 - os_[t])\n        dc = dc_next + dh * os_[t] * (1 - tc ** 2)\n        df = dc * cs[t] * fs[t] * (1 - fs[t])\n        di = dc * cs_hat[t] * is_[t] * (1 - is_[t])\n        dch = dc * is_[t] * (1 - cs_hat[t] ** 2)\n        for dW, db, d in ((dWf, dbf, df), (dWi, dbi, di), (dWc, dbc, dch), (dWo, dbo, do)):\n            dW += d @ zs[t].T\n            db += d\n        dz = Wf.T @ df + Wi.T @ di + Wc.T @ dch + Wo.T @ do\n        dh_next = dz[:n_hidden]\n        dc_next = fs[t] * dc\n    return loss, grads\n'

LSTM_DRIVER = 'import numpy as np\n\nfrom passes import backward_pass, forward_pass\n\n\ndef make_weights(n_hidden, n_vocab):\n    rng = np.random.default_rng(7)\n    n_z = n_hidden + n_vocab\n    gates = [rng.normal(0, 0.3, (n_hidden, n_z)) for _ in range(4)]\n    Wy = rng.normal(0, 0.3, (n_vocab, n_hidden))\n    biases = [np.zeros((n_hidden, 1)) for _ in range(4)]\n    return gates + [Wy] + biases + [np.zeros((n_vocab, 1))]\n\n\ndef one_hot(ids, n):\n    out = np.zeros((len(ids), n, 1))\n    out[np.arange(len(ids)), ids, 0] = 1.0\n    return out\n\n\ndef run(n_hidden, epochs):\n    text = [0, 1, 2, 3, 4, 2, 1, 0, 3, 4, 1, 2]\n    n_vocab = 5\n    weights = make_weights(n_hidden, n_vocab)\n    for epoch in range(epochs):\n        xs, ys = one_hot(text[:-1], n_vocab), one_hot(text[1:], n_vocab)\n        h, c = np.zeros((n_hidden, 1)), np.zeros((n_hidden, 1))\n        cache = forward_pass(n_hidden, xs, h, c, weights)\n        loss, grads = backward_pass(n_hidden, *cache, ys, weights)\n        weights = [w - 0.1 * g for w, g in zip(weights, grads)]\n        print(epoch, loss)\n\n\nif __name__ == "__main__":\n    run(6, 50)\n'

# a character RNN over dicts of states; a tuple of weights; `return loss, (dWxh, ...)`; a top-level script imports *
RNN_PASSES = 'import numpy as np\n\n\ndef rnn_forward(xs, h0, weights):\n    Wxh, Whh, Why, bh, by = weights\n    hs, probs = {-1: h0}, {}\n    for t in range(len(xs)):\n        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)\n        scores = Why @ hs[t] + by\n        probs[t] = np.exp(scores) / np.sum(np.exp(scores))\n    return hs, probs\n\n\ndef rnn_backward(xs, hs, probs, ys, weights):\n    Wxh, Whh, Why, bh, by = weights\n    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)\n    dbh, dby = np.zeros_like(bh), np.zeros_like(by)\n    dh_carry = np.zeros_like(hs[0])\n    loss = 0.0\n    for t in reversed(range(len(xs))):\n        loss -= np.log(probs[t][ys[t], 0])\n        dy = probs[t].copy()\n        dy[ys[t]] -= 1.0\n        dWhy += dy @ hs[t].T\n        dby += dy\n        dh = Why.T @ dy + dh_carry\n        draw = (1.0 - hs[t] ** 2) * dh\n        dbh += draw\n        dWxh += draw @ xs[t].T\n        dWhh += draw @ hs[t - 1].T\n        dh_carry = Whh.T @ draw\n    return loss, (dWxh, dWhh, dWhy, dbh, dby)\n'

RNN_DRIVER = 'import numpy as np\n\nfrom rnn_funcs import *\n\nnp.random.seed(2)\nvocab, hidden = 6, 8\nweights = (\n    np.random.randn(hidden, vocab) * 0.1,\n    np.random.randn(hidden, hidden) * 0.1,\n    np.random.randn(vocab, hidden) * 0.1,\n    np.zeros((hidden, 1)),\n    np.zeros((vocab, 1)),\n)\nseq = [0, 3, 1, 4, 2, 5, 1, 0]\nxs = [np.eye(vocab)[:, [i]] for i in seq[:-1]]\nys = seq[1:]\nfor it in range(200):\n    hs, probs = rnn_forward(xs, np.zeros((hidden, 1)), weights)\n    loss, grads = rnn_backward(xs, hs, probs, ys, weights)\n    weights = tuple(w - 0.1 * g for w, g in zip(weights, grads))\n    if it % 50 == 0:\n        print(it, loss)\n'

CASES = {
    "lstm list": (
        "passes.py", LSTM_PASSES, "train.py", LSTM_DRIVER, "forward_pass/backward_pass",
        "        dc_next = fs[t] * dc", "        dc_next = dc",
        {"Wf", "Wi", "Wc", "Wo", "Wy", "bf", "bi", "bc", "bo", "by"}, {"Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo"},
    ),
    "rnn tuple": (
        "rnn_funcs.py", RNN_PASSES, "run.py", RNN_DRIVER, "rnn_forward/rnn_backward",
        "dWhh += draw @ hs[t - 1].T", "dWhh += draw @ hs[t].T",
        {"Wxh", "Whh", "Why", "bh", "by"}, {"Whh"},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_right_passes_are_checked_on_the_call_the_program_beside_them_makes(tmp_path, case):
    name, passes, driver_name, driver, layer, right, _, params, _ = CASES[case]
    write(tmp_path, driver_name, driver)
    report = check(planted(tmp_path, name, passes, right, right))
    assert report["findings"] == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == layer and m["verdict"] == "ok"} == params


@pytest.mark.parametrize("case", CASES)
def test_a_planted_mistake_is_found(tmp_path, case):
    name, passes, driver_name, driver, layer, right, wrong, _, wrong_params = CASES[case]
    write(tmp_path, driver_name, driver)
    path = planted(tmp_path, name, passes, right, wrong)
    report = check(path)
    found = errors(report)
    assert {f["code"] for f in found} == {"BPD101"}
    assert {f["param"] for f in found} == wrong_params
    if len(wrong_params) == 1:
        assert found[0]["line"] == line_of(path, wrong.strip())


def test_without_a_program_beside_it_the_list_of_weights_is_named(tmp_path):
    report = check(write(tmp_path, "passes.py", LSTM_PASSES))
    assert errors(report) == []
    assert "take their weights in a list (`p`) whose shapes only a call says" in str(report)
