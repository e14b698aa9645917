"""A training loop that reports its loss every few epochs by evaluating the samples one at a time
into a tally (`loss_values = np.zeros(n)`, then `loss_values[i] = loss(...)` in a loop over the
samples; or `losses = []` and `losses.append(loss(...))`): the blank tally is no loss (it is
constant as assigned), and one entry of it is the loss of one sample, not the loss the pass's
averaged update follows. Neither is replayed as the step's loss, so a correct per-sample network
whose model is a list (`net[i] -= lr * grads[i]`) draws no step-gradient finding."""

from __future__ import annotations

import pytest

from tests.userfiles import check, write

PROGRAM = '''\
import numpy as np


def tanh(z):
    return np.tanh(z)


def tanh_grad(z):
    return 1 - np.tanh(z) ** 2


def squared_error(y, t):
    return 0.5 * np.sum((y - t.reshape(-1, 1)) ** 2)


def squared_error_grad(y, t):
    return y - t.reshape(-1, 1)


def forward(x, net):
    z = net[0] @ x.reshape(-1, 1) + net[1]
    h = net[4](z)
    return net[2] @ h + net[3], h, z


def gradients(x, t, net):
    y, h, z = forward(x, net)
    dy = net[7](y, t)
    dh = (net[2].T @ dy) * net[5](z)
    return dh @ x.reshape(1, -1), dh, dy @ h.T, dy


def update(grads, lr, net):
    for i in range(4):
        net[i] -= lr * grads[i]
    return net


def fit(X, T, act, act_grad, loss, loss_grad, lr=0.05, epochs=300, batch=10, verbose=True):
    rng = np.random.default_rng(1)
    net = [rng.normal(scale=0.5, size=(8, X.shape[1])), np.zeros((8, 1)),
           rng.normal(scale=0.5, size=(T.shape[1], 8)), np.zeros((T.shape[1], 1)), act, act_grad, loss, loss_grad]
    for epoch in range(epochs):
        for i in range(0, len(X), batch):
            grads = [gradients(X[k], T[k], net) for k in range(i, min(i + batch, len(X)))]
            mean = [sum(g[i] for g in grads) / len(grads) for i in range(4)]
            update(mean, lr, net)
        if verbose and (epoch + 1) % 10 == 0:
{tally}
    return net


rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3))
T = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)
net = fit(X, T, tanh, tanh_grad, squared_error, squared_error_grad)
'''

TALLIES = {
    "array": """\
            loss_values = np.zeros(len(X))
            for i in range(len(X)):
                loss_values[i] = loss(forward(X[i], net)[0], T[i])
            print(epoch + 1, loss_values.mean())""",
    "list": """\
            loss_values = []
            for i in range(len(X)):
                loss_values.append(loss(forward(X[i], net)[0], T[i]))
            print(epoch + 1, np.mean(loss_values))""",
}


@pytest.mark.parametrize("style", sorted(TALLIES))
def test_a_correct_per_sample_network_reporting_a_tally_of_sample_losses_draws_no_step_finding(tmp_path, style):
    report = check(write(tmp_path, "fit.py", PROGRAM.replace("{tally}", TALLIES[style])))
    assert [f for f in report["findings"] if f["name"] == "step-gradient-mismatch"] == []
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
