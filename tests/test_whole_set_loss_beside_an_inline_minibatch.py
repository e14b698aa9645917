"""A loop that trains on a minibatch and prints only the whole set's loss, for a network whose first
bias a batch norm takes out again (neither the loss nor its gradient moves it).

Cut inline (`net.gradient(x_all[pick], t_all[pick])`), the minibatch is the one the replay measures
the printed loss on. Drawn by a function of the program's own (`xb, tb = draw(...)`), it is not
known to be part of the whole set: the whole set's loss is another function than the minibatch's,
so every update the replay can judge is "wrong" by unrelated factors, and the bias the batch norm
removes does not turn that into a verdict against the gradients."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np


class NormNet:
    """x -> affine -> batch norm (train statistics) -> tanh -> affine -> softmax cross-entropy."""

    def __init__(self, n_in, n_hidden, n_out, rng):
        self.params = {
            "W1": rng.randn(n_in, n_hidden) * 0.3, "b1": np.zeros(n_hidden),
            "g1": np.ones(n_hidden), "s1": np.zeros(n_hidden),
            "W2": rng.randn(n_hidden, n_out) * 0.3, "b2": np.zeros(n_out),
        }

    def _forward(self, x):
        p = self.params
        z = x @ p["W1"] + p["b1"]
        mu, var = z.mean(axis=0), z.var(axis=0)
        zc = z - mu
        inv = 1.0 / np.sqrt(var + 1e-5)
        zn = zc * inv
        h = np.tanh(p["g1"] * zn + p["s1"])
        logits = h @ p["W2"] + p["b2"]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        prob = e / e.sum(axis=1, keepdims=True)
        return prob, (x, zc, inv, zn, h)

    def loss(self, x, t):
        prob, _ = self._forward(x)
        return -np.mean(np.log(prob[np.arange(len(t)), t]))

    def gradient(self, x, t):
        p = self.params
        prob, (x, zc, inv, zn, h) = self._forward(x)
        n = len(t)
        dlogits = prob.copy()
        dlogits[np.arange(n), t] -= 1
        dlogits /= n
        dh = dlogits @ p["W2"].T
        da = dh * (1 - h ** 2)
        dzn = da * p["g1"]
        dz = inv * (dzn - dzn.mean(axis=0) - zn * (dzn * zn).mean(axis=0))
        return {
            "W1": x.T @ dz, "b1": dz.sum(axis=0),
            "g1": (da * zn).sum(axis=0), "s1": da.sum(axis=0),
            "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0),
        }


rng = np.random.RandomState(5)
x_all = rng.randn(300, 5)
x_all[:, 1] = 20 + 8 * x_all[:, 1]
t_all = (x_all[:, 0] - x_all[:, 2] > 0).astype(int) + 2 * ((x_all[:, 1] - 20) / 8 > x_all[:, 3]).astype(int)
net = NormNet(5, 12, 4, rng)
for it in range(400):
    pick = rng.choice(300, 40, replace=False)
    grads = net.gradient(x_all[pick], t_all[pick])
    for name in net.params:
        net.params[name] -= 0.2 * grads[name]
    if it % 50 == 0:
        print(it, net.loss(x_all, t_all))
'''

RIGHT = "dz = inv * (dzn - dzn.mean(axis=0) - zn * (dzn * zn).mean(axis=0))"


DRAWN = """\
def draw(x, t, rng):
    pick = rng.choice(len(x), 40, replace=False)
    return x[pick], t[pick]


net = NormNet(5, 12, 4, rng)
for it in range(400):
    xb, tb = draw(x_all, t_all, rng)
    grads = net.gradient(xb, tb)
"""


def test_the_inline_minibatch_is_the_one_the_printed_loss_is_replayed_on(tmp_path):
    path = planted(tmp_path, "norm_net.py", PROGRAM, RIGHT, RIGHT)
    report = check(path)
    assert errors(report) == []
    step = replayed(report)
    assert [p["name"] for p in step["parameters"] if p["unused"]] == ["net.params['b1']"]
    assert not any(p["wrong"] for p in step["parameters"])  # measured on the minibatch: every update is right


def test_a_minibatch_drawn_by_a_function_leaves_a_right_network_clean(tmp_path):
    loop = "net = NormNet(5, 12, 4, rng)\nfor it in range(400):\n    pick = rng.choice(300, 40, replace=False)\n    grads = net.gradient(x_all[pick], t_all[pick])\n"
    path = planted(tmp_path, "norm_net.py", PROGRAM, loop, DRAWN)
    report = check(path)
    assert errors(report) == []
    step = replayed(report)
    assert [p["name"] for p in step["parameters"] if p["unused"]] == ["net.params['b1']"]
    assert any(p["wrong"] for p in step["parameters"])  # against the whole set's loss, the updates disagree


def test_the_batch_norm_backward_without_its_mean_terms_is_still_an_error(tmp_path):
    path = planted(tmp_path, "norm_net.py", PROGRAM, RIGHT, "dz = inv * dzn")
    found = errors(check(path))
    assert found, "a wrong batch-norm backward must be found"
    assert {f["line"] for f in found} <= {line_of(path, "dz = inv * dzn"), line_of(path, "return {")}
