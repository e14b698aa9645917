"""Pure functions over a tuple of parameters, as a JAX user writes NumPy: `forward(params, x, rng)`
with inverted dropout when a generator is given, `backward(...)` returning a tuple of gradients, an
update function that returns new parameters (`return tuple(p - lr * g for p, g in zip(params,
grads))`), and a loss computed only to print it now and then, on a forward pass without dropout
made inside the `if` that prints it.

The update is read as the step's (the returned comprehension rebinds `params`); the printed loss is
read as the pass's own (the forward of the printing block is the prefix's forward with dropout, not
an evaluation-mode one, and is not left holding an older pass's value): the correct program is clean,
and a dropout mask left out of the backward pass is found at its line.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts

PROGRAM = '''\
import numpy as np


def init(seed, n_in, n_hid, n_out):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, np.sqrt(2 / n_in), (n_in, n_hid)), np.zeros(n_hid),
            rng.normal(0, np.sqrt(1 / n_hid), (n_hid, n_out)), np.zeros(n_out))


def forward(params, x, rng=None, keep=0.75):
    W1, b1, W2, b2 = params
    pre = x @ W1 + b1
    act = np.maximum(pre, 0)
    mask = (rng.random(act.shape) < keep) / keep if rng is not None else np.ones_like(act)
    dropped = act * mask
    return dropped @ W2 + b2, (x, pre, dropped, mask)


def nll(scores, labels):
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(labels)), labels].mean()


def backward(params, saved, scores, labels):
    W1, b1, W2, b2 = params
    x, pre, dropped, mask = saved
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    p /= len(labels)
    g_W2, g_b2 = dropped.T @ p, p.sum(axis=0)
    g_dropped = p @ W2.T
    g_act = g_dropped * mask
    g_pre = g_act * (pre > 0)
    return x.T @ g_pre, g_pre.sum(axis=0), g_W2, g_b2


def descend(params, grads, lr):
    return tuple(p - lr * g for p, g in zip(params, grads))


def run():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    x = np.c_[np.cos(labels * 2.1) + 0.3 * rng.normal(size=300), np.sin(labels * 2.1) + 0.3 * rng.normal(size=300), rng.normal(size=(300, 2))]
    params = init(1, 4, 32, 3)
    noise = np.random.default_rng(2)
    for it in range(300):
        scores, saved = forward(params, x, noise)
        grads = backward(params, saved, scores, labels)
        params = descend(params, grads, lr=0.3)
        if it % 50 == 0:
            clean_scores, _ = forward(params, x)
            print(it, nll(clean_scores, labels))


run()
'''


def test_the_correct_program_is_clean_and_every_parameter_is_measured(tmp_path):
    report = check(planted(tmp_path, "functional.py", PROGRAM, "g_act = g_dropped * mask", "g_act = g_dropped * mask"))
    assert errors(report) == []
    verdicts = step_verdicts(report)
    assert len(verdicts) == 4 and set(verdicts.values()) == {"ok"}, verdicts


def test_a_dropout_mask_left_out_of_the_backward_pass_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "functional.py", PROGRAM, "g_act = g_dropped * mask", "g_act = g_dropped")
    report = check(path)
    assert {f["line"] for f in errors(report)} == {line_of(path, "g_act = g_dropped")}, errors(report)
