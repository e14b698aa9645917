"""A residual network checked on its own data, samples of which sit exactly at the origin while every
bias starts at zero: those samples put every ReLU input of every block exactly at its kink, and the
parameters' one-sided slopes agree with each other but not with backward. The check moves the data
off the kinks once before it calls a network's gradient wrong: a right one passes, a wrong one fails
again."""

import textwrap

from tests.userfiles import check, errors, planted, write

PROGRAM = textwrap.dedent('''
import numpy as np

# 잔차 블록 MLP, 원점에 정확히 놓인 표본이 있는 나선 데이터
class ResidualMLP:
    def __init__(self, width=16, blocks=2, classes=3, seed=1):
        r = np.random.RandomState(seed)
        self.blocks = blocks
        self.params = {"W_in": r.randn(2, width) * 0.1, "b_in": np.zeros(width)}
        for k in range(blocks):
            self.params[f"W1_{k}"] = r.randn(width, width) * 0.1
            self.params[f"b1_{k}"] = np.zeros(width)
            self.params[f"W2_{k}"] = r.randn(width, width) * 0.1
            self.params[f"b2_{k}"] = np.zeros(width)
        self.params["W_out"] = r.randn(width, classes) * 0.1
        self.params["b_out"] = np.zeros(classes)

    def loss(self, X, y):
        p = self.params
        h = X @ p["W_in"] + p["b_in"]
        saved = []
        for k in range(self.blocks):
            z = h @ p[f"W1_{k}"] + p[f"b1_{k}"]
            a = np.maximum(z, 0)
            saved.append((h, z, a))
            h = h + a @ p[f"W2_{k}"] + p[f"b2_{k}"]
        scores = h @ p["W_out"] + p["b_out"]
        s = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        n = len(y)
        loss = -np.log(probs[np.arange(n), y]).mean()
        d = probs.copy()
        d[np.arange(n), y] -= 1
        d /= n
        g = {"W_out": h.T @ d, "b_out": d.sum(axis=0)}
        dh = d @ p["W_out"].T
        for k in reversed(range(self.blocks)):
            h_in, z, a = saved[k]
            g[f"W2_{k}"] = a.T @ dh
            g[f"b2_{k}"] = dh.sum(axis=0)
            dz = (dh @ p[f"W2_{k}"].T) * (z > 0)
            g[f"W1_{k}"] = h_in.T @ dz
            g[f"b1_{k}"] = dz.sum(axis=0)
            dh = dh + dz @ p[f"W1_{k}"].T
        g["W_in"] = X.T @ dh
        g["b_in"] = dh.sum(axis=0)
        return loss, g


def spiral(n=100, k=3):
    X = np.zeros((n * k, 2))
    y = np.repeat(np.arange(k), n)
    for j in range(k):
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(j * 4, (j + 1) * 4, n) + np.random.RandomState(j).randn(n) * 0.2
        X[j * n:(j + 1) * n] = np.c_[r * np.sin(t), r * np.cos(t)]
    return X, y


if __name__ == "__main__":
    X, y = spiral()
    model = ResidualMLP()
    for it in range(500):
        loss, grads = model.loss(X, y)
        for name, value in model.params.items():
            model.params[name] = value - 0.1 * grads[name]
        if it % 100 == 0:
            print(it, loss)
''')


def test_a_right_residual_network_on_data_at_its_kinks_is_clean(tmp_path):
    report = check(write(tmp_path, "resnet.py", PROGRAM))
    assert errors(report) == [], errors(report)
    assert any(m["layer"] == "ResidualMLP" for m in report["measurements"]), report["measurements"]


def test_a_wrong_block_gradient_there_is_still_found(tmp_path):
    path = planted(tmp_path, "resnet.py", PROGRAM, "dh = dh + dz @ p[f\"W1_{k}\"].T", "dh = dz @ p[f\"W1_{k}\"].T")
    found = errors(check(path))
    assert any(f["code"] == "BPD101" and f["param"] == "W_in" for f in found), found
